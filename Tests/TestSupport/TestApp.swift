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
        settings: [String: String] = [:],
        _ body: @escaping @Sendable (HTTPClient, Services) async throws -> Void
    ) async throws {
        try await TestDatabase.with { database, url in
            let services = await Services(config: try config(databaseURL: url, settings: settings), database: database)
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
    let client: any TestClientProtocol

    public var port: Int? { client.port }

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
        let response = try await client.execute(uri: path, method: method, headers: fields, body: body)
        return Reply(status: response.status.code, headers: response.headers, body: Data(buffer: response.body))
    }
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
public enum JSON: Sendable, Equatable, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral,
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
        self = JSON(any: try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
    }

    init(any: Any) {
        switch any {
        case let value as [String: Any]: self = .object(value.mapValues(JSON.init(any:)))
        case let value as [Any]: self = .array(value.map(JSON.init(any:)))
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .number(Double(value))
        case let value as Double: self = .number(value)
        case let value as String: self = .string(value)
        default: self = .null
        }
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
