import Core
import DarajaSimulator
import Foundation
import HummingbirdTesting
import Logging
import Orders
import Server

/// The service and the Daraja simulator, each on a loopback port, talking real HTTP both ways:
/// the service calls the simulator, the simulator posts its callbacks to the service.
public struct PaymentHarness: Sendable {
    public let http: HTTPClient
    public let world: World
    public let simulator: DarajaSimulator

    public var services: Services { world.services }

    public static func run(
        settings: [String: String] = [:], callbackDelay: Duration = .milliseconds(50),
        _ body: @escaping @Sendable (PaymentHarness) async throws -> Void
    ) async throws {
        var quiet = Logger(label: "daraja-simulator")
        quiet.logLevel = .error
        let development = AppConfig.developmentDaraja
        let simulator = DarajaSimulator(
            configuration: SimulatorConfiguration(
                consumerKey: development.consumerKey, consumerSecret: development.consumerSecret,
                passkeysByShortcode: [development.shortcode: development.passkey], callbackTiming: .after(callbackDelay)),
            logger: quiet)
        try await simulator.buildApplication().test(.live) { simulatorClient in
            let darajaURL = "http://localhost:\(simulatorClient.port ?? 0)"
            try await TestApp.run(settings: ["DARAJA_BASE_URL": darajaURL, "DARAJA_TIMEOUT_SECONDS": "2"].merging(settings) { $1 }) {
                http, services in
                services.callbackURL.setBase("http://localhost:\(http.port ?? 0)")
                try await body(PaymentHarness(http: http, world: try await World.make(services), simulator: simulator))
            }
        }
    }

    /// Puts one unit of the NBO merchant's first product in the cart and checks out by M-Pesa.
    public func mpesaOrder() async throws -> Order {
        try await world.put(world.products[0][0], 1)
        return try await world.checkout(method: .mpesa).order
    }

    public func push(_ order: Order, phone: String) async throws -> Reply {
        try await http.send(
            .post, "/api/v1/payments/mpesa/stk-push", json: ["order_id": .string(order.id.uuidString), "phone": .string(phone)],
            token: try await world.token(world.customer))
    }

    /// The payment once it left `pending` (callbacks come after about 50 ms), or as it is after `seconds`.
    public func settled(_ paymentID: String, within seconds: Double = 5) async throws -> JSON {
        let token = try await world.token(world.customer)
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let payment = try await http.send(.get, "/api/v1/payments/\(paymentID)", token: token).json
            if payment["status"].string != "pending" || Date() > deadline { return payment }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    public func order(_ order: Order) async throws -> JSON {
        try await http.send(.get, "/api/v1/orders/\(order.id)", token: try await world.token(world.customer)).json
    }
}

