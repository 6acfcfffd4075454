import Configuration
import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Server

/// The whole service on a fresh database, answering real HTTP on a loopback port.
public enum TestApp {
    /// Settings a test run uses unless a test overrides them: fast bcrypt, generous rate limits.
    public static let defaultSettings: [String: String] = [
        "APP_ENV": "test",
        "BCRYPT_COST": "4",
        "AUTH_RATE_LIMIT_PER_IP": "1000",
        "AUTH_RATE_LIMIT_PER_EMAIL": "1000",
    ]

    public static func config(databaseURL: String, settings: [String: String] = [:]) throws -> AppConfig {
        var values = defaultSettings.merging(settings) { $1 }
        values["DATABASE_URL"] = databaseURL
        return try AppConfig.load(from: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: values)))
    }

    public static func run(
        settings: [String: String] = [:], effects: Effects = .live,
        _ body: @escaping @Sendable (HTTPClient, Services) async throws -> Void
    ) async throws {
        try await TestDatabase.with { database, url in
            let services = await Services(config: try config(databaseURL: url, settings: settings), database: database, effects: effects)
            var logger = Logger(label: "hubroute-test")
            logger.logLevel = .warning
            let app = try HubRouteApplication.build(services: services, logger: logger)
            try await app.test(.live) { client in
                try await body(HTTPClient(client: client), services)
            }
        }
    }
}

/// JSON over the test client.
public struct HTTPClient: Sendable {
    typealias Execute = @Sendable (String, HTTPRequest.Method, HTTPFields, ByteBuffer?) async throws -> Reply

    let execute: Execute
    public let port: Int?

    init(client: any TestClientProtocol) {
        self.port = client.port
        self.execute = { uri, method, headers, body in
            let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
            return Reply(status: response.status.code, headers: response.headers, body: Data(buffer: response.body))
        }
    }

    /// Runs `body` with a client on a connection of its own, for requests that must really
    /// run at the same time.
    public func withOwnConnection<T: Sendable>(_ body: @escaping @Sendable (HTTPClient) async throws -> T) async throws -> T {
        guard let port else { throw TestAppError.notLive }
        return try await TestClient.withClient(host: "localhost", port: port, configuration: .init(timeout: .seconds(60))) { client in
            try await body(
                HTTPClient(port: port) { uri, method, headers, payload in
                    var headers = headers
                    headers[.connection] = "keep-alive"
                    let response = try await client.execute(
                        .init(uri, method: method, authority: "localhost", headers: headers, body: payload))
                    return Reply(status: response.status.code, headers: response.headers, body: Data(buffer: response.body ?? ByteBuffer()))
                })
        }
    }

    private init(port: Int, execute: @escaping Execute) {
        self.port = port
        self.execute = execute
    }

    @discardableResult
    public func send(
        _ method: HTTPRequest.Method, _ path: String, json: JSON? = nil, token: String? = nil,
        rawBody: String? = nil, headers: [String: String] = [:]
    ) async throws -> Reply {
        var fields: HTTPFields = [:]
        if let token { fields[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            fields[.contentType] = "application/json"
            body = ByteBuffer(bytes: try json.encoded())
        } else if let rawBody {
            fields[.contentType] = "application/json"
            body = ByteBuffer(string: rawBody)
        }
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        return try await execute(path, method, fields, body)
    }
}

enum TestAppError: Error {
    case notLive
}

public struct Reply: Sendable {
    public let status: Int
    public let headers: HTTPFields
    public let body: Data

    public var json: JSON { (try? JSON(data: body)) ?? .null }
    public var text: String { String(decoding: body, as: UTF8.self) }
    public var contentType: String? { headers[.contentType] }
}

/// A small JSON tree for building requests and reading answers in tests.
public enum JSON: Sendable, Equatable, Decodable, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral,
    ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    case object([String: JSON])
    case array([JSON])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(Dictionary(uniqueKeysWithValues: elements)) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }

    public init(data: Data) throws {
        self = try JSONDecoder().decode(JSON.self, from: data)
    }

    var any: Any {
        switch self {
        case .object(let value): value.mapValues(\.any)
        case .array(let value): value.map(\.any)
        case .string(let value): value
        case .number(let value): value == value.rounded() ? Int(value) as Any : value as Any
        case .bool(let value): value
        case .null: NSNull()
        }
    }

    func encoded() throws -> Data {
        try JSONSerialization.data(withJSONObject: any, options: [.fragmentsAllowed])
    }

    /// Decoding tries booleans before numbers: JSONDecoder never reads 0 or 1 as a Bool, while
    /// JSONSerialization's NSNumbers would.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }

    public subscript(key: String) -> JSON {
        if case .object(let value) = self { return value[key] ?? .null }
        return .null
    }

    public subscript(index: Int) -> JSON {
        if case .array(let value) = self, value.indices.contains(index) { return value[index] }
        return .null
    }

    public var string: String? { if case .string(let value) = self { value } else { nil } }
    public var int: Int? { if case .number(let value) = self { Int(exactly: value) } else { nil } }
    public var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    public var array: [JSON] { if case .array(let value) = self { value } else { [] } }
    public var keys: Set<String> { if case .object(let value) = self { Set(value.keys) } else { [] } }
    public var isNull: Bool { self == .null }
}
