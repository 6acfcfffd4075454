import AsyncHTTPClient
import Core
import Daraja
import DarajaSimulator
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// A simulator and a callback receiver, both serving real HTTP on loopback ports, and clients
/// pointed at them.
struct DarajaHarness: Sendable {
    static let consumerKey = "test-consumer-key"
    static let consumerSecret = "test-consumer-secret"
    static let shortcode = SimulatorConfiguration.sandboxShortcode
    static let passkey = SimulatorConfiguration.sandboxPasskey

    /// Pushes and payouts end when the test releases them, never on a timer.
    static func configuration(
        callbackTiming: SimulatorConfiguration.CallbackTiming = .whenReleased,
        initiatorCredentials: InitiatorCredentials? = nil
    ) -> SimulatorConfiguration {
        SimulatorConfiguration(
            consumerKey: consumerKey, consumerSecret: consumerSecret,
            passkeysByShortcode: [shortcode: passkey], b2cShortcode: "600000",
            callbackTiming: callbackTiming, initiatorCredentials: initiatorCredentials)
    }

    static let quietLogger: Logger = {
        // The simulator logs a line per request; only errors matter here.
        var logger = Logger(label: "daraja-tests")
        logger.logLevel = .error
        return logger
    }()

    let simulator: DarajaSimulator
    let baseURL: String
    let receiver: CallbackReceiver
    let receiverBaseURL: String

    var state: SimulatorState { simulator.state }
    var stkCallbackURL: String { receiverBaseURL + CallbackReceiver.stkPath }
    var b2cResultURL: String { receiverBaseURL + CallbackReceiver.b2cResultPath }
    var b2cTimeoutURL: String { receiverBaseURL + CallbackReceiver.b2cTimeoutPath }

    /// - Parameter now: the simulator's clock; the clients keep their own.
    static func run(
        _ configuration: SimulatorConfiguration = DarajaHarness.configuration(),
        now: @escaping @Sendable () -> Date = { Date() },
        _ body: @escaping @Sendable (DarajaHarness) async throws -> Void
    ) async throws {
        let receiver = CallbackReceiver()
        try await receiver.buildApplication().test(.live) { receiverClient in
            let simulator = DarajaSimulator(configuration: configuration, now: now, logger: quietLogger)
            try await simulator.buildApplication().test(.live) { simulatorClient in
                let simulatorPort = try #require(simulatorClient.port)
                let receiverPort = try #require(receiverClient.port)
                try await body(
                    DarajaHarness(
                        simulator: simulator, baseURL: "http://localhost:\(simulatorPort)",
                        receiver: receiver, receiverBaseURL: "http://localhost:\(receiverPort)"))
            }
        }
    }

    func client(
        consumerSecret: String = DarajaHarness.consumerSecret,
        shortcode: String = DarajaHarness.shortcode,
        passkey: String = DarajaHarness.passkey,
        securityCredential: String = "c2VjdXJpdHktY3JlZGVudGlhbA==",
        effects: Effects = .live
    ) -> DarajaClient {
        DarajaClient(
            configuration: DarajaConfiguration(
                baseURL: baseURL, consumerKey: Self.consumerKey, consumerSecret: consumerSecret,
                shortcode: shortcode, passkey: passkey, b2cShortcode: "600000", initiatorName: "testapi",
                // Generous: a loaded machine may be slow, and no test here is about the timeout.
                securityCredential: securityCredential, requestTimeout: .seconds(30)),
            effects: effects, logger: Self.quietLogger)
    }

    func pushRequest(phone: String, amountCents: Int64 = 150_000) -> STKPushRequest {
        STKPushRequest(
            amountCents: amountCents, phone: phone, callbackURL: stkCallbackURL,
            accountReference: "HR-000123", transactionDescription: "Order payment")
    }

    func payoutRequest(phone: String, amountCents: Int64 = 50_000) -> B2CPaymentRequest {
        B2CPaymentRequest(
            originatorConversationID: UUID().uuidString, amountCents: amountCents, phone: phone,
            remarks: "Refund for order HR-000123", occasion: "Refund", resultURL: b2cResultURL, queueTimeOutURL: b2cTimeoutURL)
    }

    /// A raw JSON exchange with the simulator, bypassing the client's own validation.
    func rawPost(_ path: String, json: String, bearer: String?) async throws -> (status: Int, body: [String: String]) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        request.body = .bytes(ByteBuffer(string: json))
        return try await Self.exchange(request)
    }

    func rawToken() async throws -> String {
        var request = HTTPClientRequest(url: baseURL + "/oauth/v1/generate?grant_type=client_credentials")
        let basic = Data("\(Self.consumerKey):\(Self.consumerSecret)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(basic)")
        let (status, body) = try await Self.exchange(request)
        try #require(status == 200)
        return try #require(body["access_token"])
    }

    private static func exchange(_ request: HTTPClientRequest) async throws -> (status: Int, body: [String: String]) {
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let object = try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any] ?? [:]
        return (Int(response.status.code), object.compactMapValues { $0 as? String })
    }
}

/// Our side of the callbacks: an in-process server that stores what it receives and answers
/// as the service will.
actor CallbackReceiver {
    static let stkPath = "/mpesa/callback"
    static let b2cResultPath = "/b2c/result"
    static let b2cTimeoutPath = "/b2c/timeout"

    private var bodies: [String: [Data]] = [:]
    private var waiters: [(path: String, count: Int, arrived: Gate)] = []

    nonisolated func buildApplication() -> some ApplicationProtocol {
        let router = Router()
        router.post("**") { request, context -> Response in
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            await self.record(path: request.uri.path, body: Data(body.readableBytesView))
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"ResultCode":0,"ResultDesc":"Accepted"}"#)))
        }
        return Application(router: router, logger: DarajaHarness.quietLogger)
    }

    private func record(path: String, body: Data) async {
        bodies[path, default: []].append(body)
        let count = received(at: path).count
        let isDue = { (waiter: (path: String, count: Int, arrived: Gate)) in waiter.path == path && waiter.count <= count }
        let due = waiters.filter(isDue)
        waiters.removeAll(where: isDue)
        for waiter in due { await waiter.arrived.open() }
    }

    func received(at path: String) -> [Data] {
        bodies[path] ?? []
    }

    /// Waits, however long it takes, until `count` bodies arrived at `path`, then returns them
    /// all: for callbacks the simulator sends by itself, on its timer.
    func waitFor(_ count: Int, at path: String) async -> [Data] {
        if received(at: path).count < count {
            let arrived = Gate()
            waiters.append((path, count, arrived))
            await arrived.wait()
        }
        return received(at: path)
    }
}

/// A door tasks wait at until it is opened, once and for all.
actor Gate {
    private var isOpen = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        guard !isOpen else { return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func open() {
        isOpen = true
        for continuation in waiting { continuation.resume() }
        waiting = []
    }
}

/// Time that moves only when the test moves it.
final class ManualClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_795_000_000)) {
        current = Mutex(start)
    }

    var now: @Sendable () -> Date {
        { self.current.withLock { $0 } }
    }

    func advance(by duration: Duration) {
        current.withLock { $0 = $0.addingTimeInterval(TimeInterval(duration.components.seconds)) }
    }
}
