import Core
import Foundation
import Logging
import ServiceLifecycle

/// The running service (`hubroute serve`): the database, the HTTP application and the
/// background jobs as one service group. Only the HTTP application ending ends the service:
/// the jobs returning (`JOB_WORKERS=0`) or failing, or the database being down at start, never
/// takes the HTTP service down with them.
public enum HubRouteService {
    public static let version = "0.3.0"

    public static func run(config: AppConfig, logger: Logger) async throws {
        let database = try Services.makeDatabase(config: config, logger: logger)
        let services = await Services(config: config, database: database)
        let app = try HubRouteApplication.build(services: services, logger: logger)
        let jobs = BackgroundJobs(services: services, logger: logger)
        logger.notice(
            "hubroute starting",
            metadata: [
                "version": .string(version), "environment": .string(config.environment.rawValue),
                "address": .string("\(config.host):\(config.port)"), "background": .string(jobs.summary),
            ])
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: DatabaseService(database: database)),
                    .init(service: app),
                    .init(service: jobs, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// The connection pool and its recovery probe, for as long as the service runs.
struct DatabaseService: Service, CustomStringConvertible {
    let database: Database

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await database.run()
        }
    }

    var description: String { "DatabaseService" }
}
