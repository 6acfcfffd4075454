import Core
import OpenAPIRuntime

extension API {
    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: "ok"))))
    }

    /// Ready when the database answers and holds exactly the shipped migrations.
    func getReady(_ input: Operations.GetReady.Input) async throws -> Operations.GetReady.Output {
        do {
            switch try await services.migrator.status(services.database) {
            case .current:
                return .ok(.init(body: .json(.init(status: .ready, database: "ok", migrations: "current"))))
            case .pending:
                return .serviceUnavailable(.init(body: .json(.init(status: .notReady, database: "ok", migrations: "pending"))))
            }
        } catch is MigrationError {
            return .serviceUnavailable(.init(body: .json(.init(status: .notReady, database: "ok", migrations: "edited"))))
        } catch {
            return .serviceUnavailable(.init(body: .json(.init(status: .notReady, database: "unreachable", migrations: "unknown"))))
        }
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        .ok(.init(body: .plainText(.init(metrics.exposition()))))
    }
}
