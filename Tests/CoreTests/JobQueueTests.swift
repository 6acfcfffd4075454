import Core
import Foundation
import Logging
import PostgresNIO
import TestSupport
import Testing

@Suite struct JobQueueTests {
    static let logger = Logger(label: "jobs-test")

    /// A handler that records each run of a job, and which worker set ran it.
    static func recorder(_ database: Database, worker: String) -> JobRunner.Handler {
        { job in
            try await database.query("INSERT INTO job_runs (job_id, worker) VALUES (\(job.id), \(worker))")
        }
    }

    @Test func twoWorkerSetsOnOneDatabaseRunEachJobOnce() async throws {
        try await TestDatabase.with { database, _ in
            // Setup: 60 jobs; two "instances" of three workers each.
            try await database.query("CREATE TABLE job_runs (job_id uuid NOT NULL, worker text NOT NULL)")
            let queue = JobQueue(database: database, effects: .live)
            for index in 0..<60 { try await queue.enqueue("record", payload: ["n": index]) }
            let runners = ["a", "b"].map {
                JobRunner(queue: queue, handlers: ["record": Self.recorder(database, worker: $0)], logger: Self.logger)
            }

            // Act: run until nothing is left.
            await withTaskGroup(of: Void.self) { group in
                for runner in runners {
                    for _ in 0..<3 {
                        group.addTask { while (try? await runner.runNext()) == true {} }
                    }
                }
            }

            // Check
            let runs = try await database.query("SELECT count(*), count(DISTINCT job_id), count(DISTINCT worker) FROM job_runs")
            let (total, distinct, workers) = try runs[0].decode((Int, Int, Int).self)
            #expect(total == 60)
            #expect(distinct == 60)
            #expect(workers == 2)
            let open = try await database.query("SELECT count(*) FROM jobs WHERE finished_at IS NULL")
            #expect(try open[0].decode(Int.self) == 0)
        }
    }

    @Test func aFailingJobIsRetriedWithBackoffKeepingItsErrorThenGivenUp() async throws {
        try await TestDatabase.with { database, _ in
            // Setup: a clock we move by hand.
            let clock = ManualClock(start: Date(timeIntervalSince1970: 1_800_000_000))
            let queue = JobQueue(database: database, effects: Effects(now: { clock.now }, randomBytes: Effects.live.randomBytes))
            struct Boom: Error, CustomStringConvertible { let attempt: Int; var description: String { "boom \(attempt)" } }
            let runner = JobRunner(queue: queue, handlers: ["flaky": { job in throw Boom(attempt: job.attempt) }], logger: Self.logger)
            try await queue.enqueue("flaky", maxAttempts: 3)

            // Act and check: attempt 1 fails and waits 5 s; attempt 2 waits 10 s; attempt 3 gives up.
            #expect(try await runner.runNext())
            #expect(try await runner.runNext() == false)  // backing off
            clock.advance(by: 5)
            #expect(try await runner.runNext())
            clock.advance(by: 9)
            #expect(try await runner.runNext() == false)
            clock.advance(by: 1)
            #expect(try await runner.runNext())
            clock.advance(by: 10_000)
            #expect(try await runner.runNext() == false)
            let row = try await database.query("SELECT attempts, last_error, failed_at IS NOT NULL FROM jobs")[0]
            let (attempts, error, gaveUp) = try row.decode((Int, String, Bool).self)
            #expect(attempts == 3)
            #expect(error == "boom 3")
            #expect(gaveUp)
        }
    }

    @Test func aUniqueKeyAllowsOneUnfinishedJob() async throws {
        try await TestDatabase.with { database, _ in
            let queue = JobQueue(database: database, effects: .live)
            let runner = JobRunner(queue: queue, handlers: ["reconcile": { _ in }], logger: Self.logger)

            let first = try await queue.enqueue("reconcile", uniqueKey: "payment-1")
            let duplicate = try await queue.enqueue("reconcile", uniqueKey: "payment-1")
            let ran = try await runner.runNext()
            let afterFinishing = try await queue.enqueue("reconcile", uniqueKey: "payment-1")

            #expect(first && !duplicate && ran && afterFinishing)
            let jobs = try await database.query("SELECT count(*) FROM jobs")[0].decode(Int.self)
            #expect(jobs == 2)
        }
    }

    @Test func aJobWhoseWorkerDiedIsClaimedAgainAfterItsLease() async throws {
        try await TestDatabase.with { database, _ in
            let clock = ManualClock(start: Date(timeIntervalSince1970: 1_800_000_000))
            let queue = JobQueue(
                database: database, effects: Effects(now: { clock.now }, randomBytes: Effects.live.randomBytes), lease: 60)
            try await queue.enqueue("slow")

            let first = try await queue.claim()  // and its worker never reports back
            let whileLeased = try await queue.claim()
            clock.advance(by: 61)
            let afterLease = try await queue.claim()

            #expect(first != nil)
            #expect(whileLeased == nil)
            #expect(afterLease?.id == first?.id)
            #expect(afterLease?.attempt == 2)
        }
    }

    @Test func aWorkerThatOverranItsLeaseCannotFinishTheJobAnotherClaimed() async throws {
        try await TestDatabase.with { database, _ in
            // Setup: worker A claims, overruns its lease; worker B claims the job again.
            let clock = ManualClock(start: Date(timeIntervalSince1970: 1_800_000_000))
            let queue = JobQueue(
                database: database, effects: Effects(now: { clock.now }, randomBytes: Effects.live.randomBytes), lease: 60)
            try await queue.enqueue("slow")
            let a = try #require(try await queue.claim())
            clock.advance(by: 61)
            let b = try #require(try await queue.claim())

            // Act
            let aCompleted = try await queue.complete(a)
            let aFailed = try await queue.fail(a, error: "late")
            let stillOpen = try await database.query("SELECT finished_at IS NULL, last_error FROM jobs")[0].decode((Bool, String?).self)
            let bCompleted = try await queue.complete(b)

            // Check
            #expect(!aCompleted && !aFailed)
            #expect(stillOpen.0 && stillOpen.1 == nil)
            #expect(bCompleted)
            #expect(try await database.query("SELECT count(*) FROM jobs WHERE finished_at IS NOT NULL")[0].decode(Int.self) == 1)
        }
    }

    @Test func aPeriodicJobComesBackEachPeriod() async throws {
        try await TestDatabase.with { database, _ in
            try await database.query("CREATE TABLE job_runs (job_id uuid NOT NULL, worker text NOT NULL)")
            let clock = ManualClock(start: Date(timeIntervalSince1970: 1_800_000_000))
            let queue = JobQueue(database: database, effects: Effects(now: { clock.now }, randomBytes: Effects.live.randomBytes))
            let runner = JobRunner(queue: queue, handlers: ["tick": Self.recorder(database, worker: "a")], logger: Self.logger)
            try await queue.enqueue("tick", uniqueKey: "tick", repeatEvery: .seconds(30))
            let again = try await queue.enqueue("tick", uniqueKey: "tick", repeatEvery: .seconds(30))
            #expect(!again)

            #expect(try await runner.runNext())
            #expect(try await runner.runNext() == false)
            clock.advance(by: 30)
            #expect(try await runner.runNext())

            #expect(try await database.query("SELECT count(*) FROM job_runs")[0].decode(Int.self) == 2)
            #expect(try await database.query("SELECT count(*) FROM jobs")[0].decode(Int.self) == 1)
        }
    }
}

