import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OpenAPIRuntime

/// Turns every failure into `application/problem+json` (SPEC section 12). Problems thrown by
/// the services pass through; request-decoding failures become 400 or 422; anything else is
/// logged and answered with a generic 500 that reveals nothing.
///
/// An error is logged by its operation, route template, request id, type and code only: never
/// the request's headers (bearer tokens), raw path (callback secrets), body (passwords) or the
/// decoded input, all of which the OpenAPI runtime's errors would otherwise print.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// Longer URLs are refused with 414 before anything reads them.
    static let maximumURLBytes = 8_192

    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.string.utf8.count <= Self.maximumURLBytes else {
            return Self.response(
                Problem(
                    status: 414, code: "uri_too_long", title: "URI too long",
                    detail: "Request URLs are limited to \(Self.maximumURLBytes) bytes."))
        }
        var request = request
        let body: ByteBuffer
        do {
            // Collecting here applies the 1 MiB limit before any handler reads the body.
            body = try await request.collectBody(upTo: context.maxUploadSize)
        } catch {
            return Self.response(problem(for: error, request: request, context: context, body: ByteBuffer()))
        }
        do {
            return try await next(request, context)
        } catch {
            return Self.response(problem(for: error, request: request, context: context, body: body))
        }
    }

    static func response(_ problem: Problem) -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        for (name, value) in problem.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(
            status: .init(code: problem.status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: problem.jsonBody())))
    }

    private func problem(for error: any Error, request: Request, context: Context, body: ByteBuffer) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let serverError as ServerError:
            if let problem = Self.problem(for: serverError, body: body) { return problem }
            logUnhandled(serverError.underlyingError, operation: serverError.operationID, context: context)
            return .internalError
        case let httpError as HTTPError:
            return problem(for: httpError, request: request)
        case is NIOTooManyBytesError:
            return problem(for: HTTPError(.contentTooLarge), request: request)
        default:
            logUnhandled(error, operation: nil, context: context)
            return .internalError
        }
    }

    private func logUnhandled(_ error: any Error, operation: String?, context: Context) {
        logger.error(
            "unhandled error",
            metadata: [
                "request_id": .string(RequestInfo.current.id), "operation": .string(operation ?? "-"),
                "route": .string(context.endpointPath ?? "unmatched"), "error": .string(DatabaseError.loggable(error)),
            ])
    }

    /// The client's fault in a request the runtime could not turn into the operation's input, or
    /// a problem a handler threw; nil for a failure of ours.
    private static func problem(for error: ServerError, body: ByteBuffer) -> Problem? {
        if let problem = error.underlyingError as? Problem { return problem }
        if let decoding = error.underlyingError as? DecodingError {
            let isJSON = (try? JSONSerialization.jsonObject(with: Data(buffer: body), options: [.fragmentsAllowed])) != nil
            return problem(for: decoding, bodyIsJSON: isJSON)
        }
        if error.operationInput == nil {
            // A missing body or header, a parameter of the wrong type, an unexpected content
            // type. The runtime's own words name the parameter, never its value.
            return .malformedRequest(error.causeDescription)
        }
        return nil
    }

    static func problem(for error: DecodingError, bodyIsJSON: Bool) -> Problem {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted where !bodyIsJSON:
            return .malformedRequest("The body is not valid JSON.")
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            // Valid JSON holding a value the decoder cannot take, e.g. 1.5 for an integer; the
            // decoder does not say which field.
            return .validation(field: "body", "holds a value of the wrong type, such as a fraction where a whole number belongs")
        case .dataCorrupted(let context) where context.debugDescription.hasPrefix("Additional properties are disabled"):
            // A request schema with `additionalProperties: false` met a member it does not have.
            return .validation(field: path(context), "is not a field of this request")
        case .dataCorrupted(let context):
            return .validation(field: path(context), "has a value that is not allowed")
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return .validation(field: parent.isEmpty ? key.stringValue : "\(parent).\(key.stringValue)", "is required")
        case .typeMismatch(let type, let context):
            return .validation(field: path(context), "must be \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            return .validation(field: path(context), "must be \(Self.describe(type)), not null")
        @unknown default:
            return .malformedRequest("The body could not be read.")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name.contains("Int") { return "an integer" }
        if name.contains("Bool") { return "true or false" }
        if name.contains("String") { return "a string" }
        if name.contains("Array") { return "an array" }
        return "an object of the documented shape"
    }

    private func problem(for error: HTTPError, request: Request) -> Problem {
        switch error.status.code {
        case 404:
            return Problem(status: 404, code: "not_found", title: "Not found", detail: "No route matches this path.")
        case 413:
            return Problem(
                status: 413, code: "payload_too_large", title: "Payload too large",
                detail: "Request bodies are limited to 1 MiB.")
        case 400..<500:
            return Problem(
                status: error.status.code, code: "bad_request", title: error.status.reasonPhrase,
                detail: error.body ?? error.status.reasonPhrase)
        default:
            return .internalError
        }
    }
}
