import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// `hubroute-load`: the benchmarks' load generator (scripts/bench.sh drives it). Closed loop,
/// open loop at a fixed arrival rate (latency from each request's intended start, so a slow
/// service cannot hide its queue: no coordinated omission), a burst, and GET lists. Figures go
/// to a JSON file (latencies from HdrHistogram, in milliseconds).
@main
struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hubroute-load",
        abstract: "Load generator for HubRoute's benchmarks.",
        subcommands: [Closed.self, Open.self, Burst.self, Get.self])
}

struct Common: ParsableArguments {
    @Option(help: "The service's base URL.") var baseURL = "http://127.0.0.1:8080"
    @Option(help: "Where to write the figures (JSON); stdout when absent.") var out: String?
    @Option(help: "Free text carried into the JSON.") var label = ""

    /// Runs `work` with an HTTP client that keeps up to `connections` connections open.
    func withShopper(connections: Int, _ work: (Shopper) async throws -> [String: Any]) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = HTTPClient(
            eventLoopGroup: group,
            configuration: .init(
                connectionPool: .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, connections))))
        let cpuBefore = processCPUSeconds()
        var figures: [String: Any]
        do {
            figures = try await work(Shopper(client: client, baseURL: baseURL, recorder: Recorder()))
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        try await group.shutdownGracefully()
        figures["label"] = label
        figures["loadgen_cpu_s"] = ((processCPUSeconds() - cpuBefore) * 1000).rounded() / 1000
        let data = try JSONSerialization.data(withJSONObject: figures, options: [.prettyPrinted, .sortedKeys])
        if let out {
            try data.write(to: URL(fileURLWithPath: out))
        } else {
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

/// A prefix that keeps this run's idempotency keys apart from every earlier run's.
let runPrefix = "bench-" + String(UInt32.random(in: .min ... .max), radix: 16)

/// Opens `count` connections before the measured work, so it does not pay for the handshakes.
func warmConnections(_ shopper: Shopper, count: Int) async {
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<count { group.addTask { _ = await shopper.send(.GET, "/health") } }
    }
}

struct Closed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "N clients, each a customer buying back to back (3 cart adds + checkout) until the time is up.")
    @OptionGroup var common: Common
    @Option(help: "Customers file (JSON) written by the bench scripts.") var customers: String
    @Option(help: "Concurrent clients; client i is customer i of the file.") var clients = 8
    @Option(help: "First customer of the file to use.") var first = 0
    @Option(help: "Seconds of load.") var duration = 20.0
    @Option(help: "Stop each client after this many purchases (0: no limit).") var flows = 0

    func run() async throws {
        let all = try Customer.load(customers)
        guard first + clients <= all.count else { throw ValidationError("only \(all.count) customers in \(customers)") }
        let chosen = Array(all[first..<(first + clients)])
        let (duration, flows) = (duration, flows)
        try await common.withShopper(connections: clients) { shopper in
            await warmConnections(shopper, count: clients)
            let clock = ContinuousClock()
            let start = clock.now
            let deadline = start + .milliseconds(Int64(duration * 1000))
            await withTaskGroup(of: Void.self) { group in
                for (index, customer) in chosen.enumerated() {
                    group.addTask {
                        var done = 0
                        while clock.now < deadline && (flows == 0 || done < flows) {
                            _ = await shopper.buy(as: customer, key: "\(runPrefix)-\(index)-\(done)", intendedStart: clock.now)
                            done += 1
                        }
                    }
                }
            }
            let elapsed = (clock.now - start).seconds
            var figures = shopper.recorder.report(elapsedSeconds: elapsed)
            let checkouts = shopper.recorder.snapshot.statuses["checkout"]?["201"] ?? 0
            figures["mode"] = "closed"
            figures["clients"] = clients
            figures["checkouts"] = checkouts
            figures["checkouts_per_s"] = (Double(checkouts) / elapsed * 100).rounded() / 100
            return figures
        }
    }
}

struct Open: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Customers arrive at a fixed rate whatever the answers take (open loop, wrk2-style).")
    @OptionGroup var common: Common
    @Option(help: "Customers file (JSON) written by the bench scripts.") var customers: String
    @Option(help: "First customer of the file in the pool.") var first = 0
    @Option(help: "Customers in the pool (an arrival takes a free one).") var count = 200
    @Option(help: "Arrivals (checkouts) per second.") var rate: Double
    @Option(help: "Seconds of arrivals.") var duration = 30.0

    func run() async throws {
        let all = try Customer.load(customers)
        guard first + count <= all.count, rate > 0 else { throw ValidationError("bad pool or rate") }
        let pool = CustomerPool(Array(all[first..<(first + count)]))
        let (rate, duration, count) = (rate, duration, count)
        try await common.withShopper(connections: count) { shopper in
            await warmConnections(shopper, count: min(count, 64))
            let clock = ContinuousClock()
            let start = clock.now
            let arrivals = Int(rate * duration)
            let interval = 1.0 / rate
            var worstLateness = Duration.zero
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<arrivals {
                    let intended = start + .microseconds(Int64((Double(index) * interval * 1_000_000).rounded()))
                    try? await clock.sleep(until: intended)
                    worstLateness = max(worstLateness, clock.now - intended)
                    group.addTask {
                        let customer = await pool.take()
                        _ = await shopper.buy(as: customer, key: "\(runPrefix)-\(index)", intendedStart: intended)
                        await pool.give(customer)
                    }
                }
            }
            let elapsed = (clock.now - start).seconds
            var figures = shopper.recorder.report(elapsedSeconds: elapsed)
            let checkouts = shopper.recorder.snapshot.statuses["checkout"]?["201"] ?? 0
            figures["mode"] = "open"
            figures["target_rate_per_s"] = rate
            figures["arrivals"] = arrivals
            figures["checkouts"] = checkouts
            figures["checkouts_per_s"] = (Double(checkouts) / elapsed * 100).rounded() / 100
            figures["pool_waits"] = await pool.waits
            figures["worst_dispatch_lateness_ms"] = (Double(worstLateness.micros) / 1000 * 1000).rounded() / 1000
            return figures
        }
    }
}

struct Burst: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every customer of a slice checks out its (seeded) cart at the same moment.")
    @OptionGroup var common: Common
    @Option(help: "Customers file (JSON) written by the bench scripts.") var customers: String
    @Option(help: "First customer of the file.") var first = 0
    @Option(help: "Buyers.") var count = 200

    func run() async throws {
        let all = try Customer.load(customers)
        guard first + count <= all.count else { throw ValidationError("only \(all.count) customers in \(customers)") }
        let buyers = Array(all[first..<(first + count)])
        let count = count
        try await common.withShopper(connections: count) { shopper in
            await warmConnections(shopper, count: count)
            let clock = ContinuousClock()
            let start = clock.now
            await withTaskGroup(of: Void.self) { group in
                for (index, buyer) in buyers.enumerated() {
                    group.addTask { _ = await shopper.checkout(as: buyer, key: "\(runPrefix)-hot-\(index)", intendedStart: start) }
                }
            }
            let elapsed = (clock.now - start).seconds
            var figures = shopper.recorder.report(elapsedSeconds: elapsed)
            figures["mode"] = "burst"
            figures["buyers"] = count
            figures["burst_ms"] = (elapsed * 1_000_000).rounded() / 1000
            return figures
        }
    }
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "For each named path of a list, closed-loop GETs for a while; latency per name.")
    @OptionGroup var common: Common
    @Option(help: "JSON list of {\"name\", \"path\"} with an optional bearer \"token\" and \"accept\" header.") var paths: String
    @Option(help: "Concurrent clients per path.") var clients = 2
    @Option(help: "Seconds per path.") var duration = 5.0

    struct Target: Decodable, Sendable {
        let name: String
        let path: String
        let token: String?
        let accept: String?
    }

    func run() async throws {
        let targets = try JSONDecoder().decode([Target].self, from: Data(contentsOf: URL(fileURLWithPath: paths)))
        let (clients, duration) = (clients, duration)
        try await common.withShopper(connections: clients) { shopper in
            await warmConnections(shopper, count: clients)
            let clock = ContinuousClock()
            let start = clock.now
            var rates: [String: Double] = [:]
            for target in targets {
                let from = clock.now
                let deadline = from + .milliseconds(Int64(duration * 1000))
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<clients {
                        group.addTask {
                            while clock.now < deadline {
                                let sent = clock.now
                                let answer = await shopper.send(
                                    .GET, target.path, token: target.token, headers: target.accept.map { [("Accept", $0)] } ?? [])
                                shopper.recorder.record(
                                    target.name, micros: (clock.now - sent).micros, status: answer.status, expected: 200,
                                    code: answer.status == 200 ? nil : answer.code)
                            }
                        }
                    }
                }
                let count = shopper.recorder.snapshot.statuses[target.name]?.values.reduce(0, +) ?? 0
                rates[target.name] = (Double(count) / (clock.now - from).seconds * 10).rounded() / 10
            }
            var figures = shopper.recorder.report(elapsedSeconds: (clock.now - start).seconds)
            figures["mode"] = "get"
            figures["clients"] = clients
            figures["requests_per_s"] = rates
            return figures
        }
    }
}
