import Foundation
import Histogram
import Synchronization

/// Latencies per request kind (HdrHistogram, microseconds) and answers per kind and status,
/// shared by every task of a run behind one lock (recording is O(1)).
final class Recorder: Sendable {
    struct State {
        var histograms: [String: Histogram<UInt64>] = [:]
        var statuses: [String: [String: Int]] = [:]
        var errorKinds: [String: Int] = [:]
        var completedFlows = 0
        var failedFlows = 0
    }

    private let state = Mutex(State())

    /// Records one answer; `expected` is the status a successful answer has.
    func record(_ kind: String, micros: Int64, status: Int, expected: Int, code: String? = nil) {
        state.withLock { state in
            state.histograms[kind, default: Self.histogram()].record(UInt64(max(1, micros)))
            state.statuses[kind, default: [:]]["\(status)", default: 0] += 1
            if status != expected {
                state.errorKinds["\(kind) \(status == 0 ? "transport" : String(status)) \(code ?? "-")", default: 0] += 1
            }
        }
    }

    func recordLatency(_ kind: String, micros: Int64) {
        state.withLock { _ = $0.histograms[kind, default: Self.histogram()].record(UInt64(max(1, micros))) }
    }

    func flowEnded(ok: Bool) {
        state.withLock { state in
            if ok { state.completedFlows += 1 } else { state.failedFlows += 1 }
        }
    }

    var snapshot: State { state.withLock { $0 } }

    private static func histogram() -> Histogram<UInt64> {
        // 1 µs to 2 minutes, three significant digits.
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
    }

    /// The figures of one kind, in milliseconds.
    static func summary(_ histogram: Histogram<UInt64>) -> [String: Any] {
        func ms(_ micros: UInt64) -> Double { (Double(micros) / 1000 * 1000).rounded() / 1000 }
        return [
            "count": Int(histogram.totalCount),
            "mean_ms": (histogram.mean / 1000 * 1000).rounded() / 1000,
            "p50_ms": ms(histogram.valueAtPercentile(50)),
            "p90_ms": ms(histogram.valueAtPercentile(90)),
            "p99_ms": ms(histogram.valueAtPercentile(99)),
            "p999_ms": ms(histogram.valueAtPercentile(99.9)),
            "max_ms": ms(histogram.max),
        ]
    }

    /// The run's figures as a JSON object: requests per kind, statuses, errors.
    func report(elapsedSeconds: Double) -> [String: Any] {
        let state = snapshot
        var requests: [String: Any] = [:]
        for (kind, histogram) in state.histograms { requests[kind] = Self.summary(histogram) }
        let errors = state.errorKinds.values.reduce(0, +)
        return [
            "elapsed_s": (elapsedSeconds * 1000).rounded() / 1000,
            "flows_completed": state.completedFlows,
            "flows_failed": state.failedFlows,
            "requests": requests,
            "statuses": state.statuses,
            "errors": errors,
            "error_kinds": state.errorKinds,
        ]
    }
}

/// CPU seconds (user + system) this process has used so far.
func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

extension Duration {
    var micros: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
