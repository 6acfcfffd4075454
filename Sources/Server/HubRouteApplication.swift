import Console
import Core
import Foundation
import Hummingbird
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime

/// Builds the HTTP application: the generated routes, the OpenAPI document, and the
/// middlewares every request passes through (request log and metrics, problem+json errors,
/// the 1 MiB body limit). The caller runs the database pool (`services.database.client`).
public enum HubRouteApplication {
    public static func build(
        services: Services, logger: Logger, metrics: HTTPMetrics = HTTPMetrics()
    ) throws -> some ApplicationProtocol {
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: RequestLogMiddleware(logger: logger, metrics: metrics, trustedProxies: services.config.trustedProxies))
        router.add(middleware: ProblemMiddleware(logger: logger))
        let document = try OpenAPIDocument.register(on: router)
        // The web console's HTML pages are not in the document (SPEC section 12): added before
        // the guard, behind the console's own sessions and CSRF checks.
        try Console(services: services, logger: logger).register(on: router)
        // Added after the document's own routes: it guards the operations the document lists.
        router.add(middleware: RouteGuard(routes: try RouteTable(document: document), auth: services.auth))
        let api = API(services: services, metrics: metrics)
        // Compact JSON with unsorted keys: sorting keys and indenting (the runtime's default)
        // were a third of the time to answer a page of orders.
        try api.registerHandlers(
            on: router, serverURL: URL(string: "/")!,
            configuration: Configuration(dateTranscoder: InternetDateTranscoder(), jsonEncodingOptions: []),
            middlewares: [BulkReadOffload()])
        var app = Application(
            router: router,
            configuration: .init(
                address: .hostname(services.config.host, port: services.config.port), serverName: "hubroute"),
            logger: logger)
        app.beforeServerStarts {
            // Serving against a schema this build does not match would fail request by request;
            // an unreachable database is different: serve, answer 503, and recover when it is back.
            do {
                if case .pending(let names) = try await services.migrator.status(services.database) {
                    throw ConfigurationError(
                        setting: "DATABASE_URL", message: "has pending migrations (\(names.joined(separator: ", "))); run `hubroute migrate`")
                }
            } catch let problem as Problem where problem.code == Problem.databaseUnavailable.code {
                logger.warning("database unreachable at start; serving 503 until it answers")
            }
        }
        return app
    }
}

/// Serves the document the server is generated from, as YAML and as JSON.
enum OpenAPIDocument {
    /// Returns the document as JSON.
    static func register(on router: Router<AppRequestContext>) throws -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw ConfigurationError(setting: "openapi.yaml", message: "is missing from the service's resources")
        }
        let yaml = try String(contentsOf: url, encoding: .utf8)
        let json = try JSONConversion.json(fromYAML: yaml)
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: yaml)))
        }
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
        }
        return json
    }
}
