import Core
import DarajaSimulator
import Foundation
import HummingbirdTesting
import Logging
import Orders
import Server

/// The service and the Daraja simulator, each on a loopback port, talking real HTTP both ways:
/// the service calls the simulator, the simulator posts its callbacks to the service.
///
/// The test owns time: M-Pesa finishes a push only when the test releases it, and the
/// services' clock moves only when the test advances it.
public struct PaymentHarness: Sendable {
    public let http: HTTPClient
    public let world: World
    public let simulator: DarajaSimulator
    public let clock: TestClock

    public var services: Services { world.services }

    public static func run(
        settings: [String: String] = [:], clock: TestClock = TestClock(), _ body: @escaping @Sendable (PaymentHarness) async throws -> Void
    ) async throws {
        var quiet = Logger(label: "daraja-simulator")
        quiet.logLevel = .error
        let development = AppConfig.developmentDaraja
        let simulator = DarajaSimulator(
            configuration: SimulatorConfiguration(
                consumerKey: development.consumerKey, consumerSecret: development.consumerSecret,
                passkeysByShortcode: [development.shortcode: development.passkey], callbackTiming: .whenReleased),
            logger: quiet)
        try await simulator.buildApplication().test(.live) { simulatorClient in
            let darajaURL = "http://localhost:\(simulatorClient.port ?? 0)"
            try await TestApp.run(settings: ["DARAJA_BASE_URL": darajaURL].merging(settings) { $1 }, effects: clock.effects) {
                http, services in
                services.callbackURL.setBase("http://localhost:\(http.port ?? 0)")
                let world = try await World.make(services)
                try await body(PaymentHarness(http: http, world: world, simulator: simulator, clock: clock))
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

    /// M-Pesa finishes the push: from now on the STK query knows its outcome, and its callbacks
    /// (up to `deliveries` of them) have been answered by the service when this returns.
    @discardableResult
    public func release(_ push: Reply, deliveries: Int = .max) async -> [SimulatorState.DeliveredCallback] {
        await simulator.release(checkoutRequestID: push.json["checkout_request_id"].string ?? "", deliveries: deliveries)
    }

    /// The payment `push` created, as the service has it now.
    public func payment(_ push: Reply) async throws -> JSON {
        let id = push.json["payment_id"].string ?? ""
        return try await http.send(.get, "/api/v1/payments/\(id)", token: try await world.token(world.customer)).json
    }

    public func order(_ order: Order) async throws -> JSON {
        try await http.send(.get, "/api/v1/orders/\(order.id)", token: try await world.token(world.customer)).json
    }
}
