import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A seeded customer, logged in once before the run (the bench scripts write this file).
struct Customer: Decodable, Sendable {
    let n: Int
    let token: String
    let addressID: String
    let products: [String]

    enum CodingKeys: String, CodingKey {
        case n, token, products
        case addressID = "address_id"
    }

    static func load(_ path: String) throws -> [Customer] {
        try JSONDecoder().decode([Customer].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

/// The HTTP side of the load: one client with enough connections for every concurrent request.
struct Shopper: Sendable {
    let client: HTTPClient
    let baseURL: String
    let recorder: Recorder

    struct Answer {
        let status: Int
        let body: ByteBuffer?

        /// The problem `code` of an error answer.
        var code: String? {
            guard let body, let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
                return nil
            }
            return object["code"] as? String
        }
    }

    func send(_ method: HTTPMethod, _ path: String, token: String? = nil, json: String? = nil, headers: [(String, String)] = [])
        async -> Answer
    {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 16 << 20)
            return Answer(status: Int(response.status.code), body: body)
        } catch {
            return Answer(status: 0, body: nil)
        }
    }

    /// One customer: three cart adds and a cash-on-delivery checkout of the three-merchant cart.
    /// Each request's latency counts from its intended start: the first from `intendedStart`
    /// (the open loop's schedule), the next ones from the previous answer.
    func buy(as customer: Customer, key: String, intendedStart: ContinuousClock.Instant) async -> Bool {
        let clock = ContinuousClock()
        var start = intendedStart
        for product in customer.products {
            let answer = await send(
                .POST, "/api/v1/cart/items", token: customer.token, json: #"{"product_id":"\#(product)","quantity":1}"#)
            let end = clock.now
            recorder.record("cart_add", micros: (end - start).micros, status: answer.status, expected: 200, code: answer.status == 200 ? nil : answer.code)
            start = end
            guard answer.status == 200 else {
                recorder.flowEnded(ok: false)
                return false
            }
        }
        let ok = await checkout(as: customer, key: key, intendedStart: start)
        recorder.recordLatency("flow", micros: (clock.now - intendedStart).micros)
        recorder.flowEnded(ok: ok)
        return ok
    }

    func checkout(as customer: Customer, key: String, intendedStart: ContinuousClock.Instant) async -> Bool {
        let answer = await send(
            .POST, "/api/v1/orders", token: customer.token,
            json: #"{"address_id":"\#(customer.addressID)","payment_method":"cod"}"#, headers: [("Idempotency-Key", key)])
        recorder.record(
            "checkout", micros: (ContinuousClock.now - intendedStart).micros, status: answer.status, expected: 201,
            code: answer.status == 201 ? nil : answer.code)
        return answer.status == 201
    }
}

/// Customers not in use, handed out to the open loop's arrivals; an arrival with none free waits
/// (its wait counts in its latency, which is measured from its intended start).
actor CustomerPool {
    private var free: [Customer]
    private var waiting: [CheckedContinuation<Customer, Never>] = []
    private(set) var waits = 0

    init(_ customers: [Customer]) { free = customers.reversed() }

    func take() async -> Customer {
        if let customer = free.popLast() { return customer }
        waits += 1
        return await withCheckedContinuation { waiting.append($0) }
    }

    func give(_ customer: Customer) {
        if waiting.isEmpty { free.append(customer) } else { waiting.removeFirst().resume(returning: customer) }
    }
}
