import Foundation
import Hummingbird

/// Any JSON value: the simulator reads requests field by field, as Daraja validates them, and
/// writes callbacks whose item values mix strings and numbers.
enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// A number with a fraction, kept exactly.
    case number(Decimal)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let integer = try? container.decode(Int64.self) {
            self = .integer(integer)
        } else if let number = try? container.decode(Decimal.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let list = try? container.decode([JSONValue].self) {
            self = .array(list)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .integer(let integer): try container.encode(integer)
        case .number(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        case .array(let list): try container.encode(list)
        case .object(let members): try container.encode(members)
        }
    }

    /// Text, or the digits of an integer: Daraja takes shortcodes and phones either way.
    var text: String? {
        switch self {
        case .string(let text): text
        case .integer(let integer): String(integer)
        default: nil
        }
    }

    var object: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int64) { self = .integer(value) }
    init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// A refusal in Daraja's error shape `{requestId, errorCode, errorMessage}`.
struct SimulatorError: Error {
    let status: HTTPResponse.Status
    let errorCode: String
    let errorMessage: String

    static func invalid(_ field: String) -> SimulatorError {
        SimulatorError(status: .badRequest, errorCode: "400.002.02", errorMessage: "Bad Request - Invalid \(field)")
    }

    static let invalidAccessToken = SimulatorError(status: .notFound, errorCode: "404.001.03", errorMessage: "Invalid Access Token")
    static let invalidAuthentication = SimulatorError(
        status: .badRequest, errorCode: "400.008.01", errorMessage: "Invalid Authentication passed")
    static let invalidGrantType = SimulatorError(status: .badRequest, errorCode: "400.008.02", errorMessage: "Invalid grant type passed")
    /// SPEC section 6: `500.001.1001` is both "wrong credentials" and "still processing".
    static let wrongCredentials = SimulatorError(status: .internalServerError, errorCode: "500.001.1001", errorMessage: "Wrong credentials")
    static let stillProcessing = SimulatorError(
        status: .internalServerError, errorCode: "500.001.1001", errorMessage: "The transaction is being processed")

    var response: Response {
        JSONResponse.make(
            status: status,
            ["requestId": .string(SimulatorIDs.requestID()), "errorCode": .string(errorCode), "errorMessage": .string(errorMessage)])
    }
}

enum JSONResponse {
    static func make(status: HTTPResponse.Status = .ok, _ value: JSONValue) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: encode(value))))
    }

    /// Sorted keys, so the same value always gives the same bytes.
    static func encode(_ value: JSONValue) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a JSONValue cannot fail: it holds nothing but JSON.
        return (try? encoder.encode(value)) ?? Data()
    }
}

/// A request body's fields, read and checked the way Daraja does.
struct RequestFields {
    let members: [String: JSONValue]

    init(body: ByteBuffer) throws(SimulatorError) {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView)), let members = value.object
        else { throw SimulatorError.invalid("Request Payload") }
        self.members = members
    }

    /// Non-empty text of at most `maxLength` characters.
    func text(_ field: String, maxLength: Int = .max) throws(SimulatorError) -> String {
        guard let text = members[field]?.text, !text.isEmpty, text.count <= maxLength else { throw .invalid(field) }
        return text
    }

    /// A JSON integer (not a string, not a fraction) within `range`.
    func integer(_ field: String, in range: ClosedRange<Int64>) throws(SimulatorError) -> Int64 {
        guard case .integer(let value)? = members[field], range.contains(value) else { throw .invalid(field) }
        return value
    }

    /// A Safaricom mobile number exactly as Daraja wants it: `2547XXXXXXXX` or `2541XXXXXXXX`.
    /// Daraja does not normalise, so neither does the simulator.
    func phone(_ field: String) throws(SimulatorError) -> String {
        let phone = try text(field)
        guard phone.count == 12, phone.hasPrefix("2547") || phone.hasPrefix("2541"), phone.allSatisfy({ $0.isASCII && $0.isNumber })
        else { throw .invalid(field) }
        return phone
    }

    func url(_ field: String) throws(SimulatorError) -> String {
        let text = try text(field)
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host?.isEmpty == false
        else { throw .invalid(field) }
        return text
    }
}
