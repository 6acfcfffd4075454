import Core
import Foundation
import Logging
import PostgresNIO

/// A realistic marketplace at volume for analytics and benchmarks (`hubroute seed-volume`): hubs
/// with staff, zones, merchants with products, customers, and `orders` master orders spread over
/// `days` days before `end`, cash on delivery and M-Pesa, each taken as far along its life as the
/// time allows: payments (failed, retried, flagged, late), cancellations of every reason, hub
/// moves, failed attempts, returns, deliveries, cash collected and remitted (some with a
/// variance), refunds paid, denied and pending, and reviews.
///
/// Everything is written in bulk (multi-row statements), never through the API, yet as the code
/// would have written it: the money ledger balances (`hubroute audit-money`), stock is conserved,
/// every status has the events that led to it. The world depends only on the options: the same
/// seed gives the same rows.
public struct VolumeSeeder: Sendable {
    public struct Options: Sendable {
        public var orders: Int
        public var seed: UInt64
        public var days: Int
        /// The instant the world stops (exclusive); orders younger than a few days are still on
        /// their way.
        public var end: Date

        public init(orders: Int, seed: UInt64, days: Int, end: Date) {
            self.orders = orders
            self.seed = seed
            self.days = days
            self.end = end
        }
    }

    let database: Database
    let timeZone: TimeZone
    let logger: Logger

    public init(database: Database, timeZone: TimeZone) {
        self.database = database
        self.timeZone = timeZone
        self.logger = database.logger
    }

    /// Orders simulated and written per batch: a batch's rows are written in the order of the
    /// foreign keys, so nothing refers to a row not yet written.
    static let batchSize = 5_000

    /// Fills the database; returns the rows written per table.
    public func seed(_ options: Options) async throws -> [(table: String, rows: Int)] {
        guard options.orders > 0, options.days > 0 else { throw SeedError.nothingToSeed }
        let logger = self.logger
        let existing = try await database.query("SELECT count(*) FROM orders")[0].decode(Int.self)
        guard existing == 0 else { throw SeedError.notEmpty }
        var random = SeededRandom(seed: options.seed)
        let world = try await places(&random, options: options)
        var simulation = VolumeSimulation(world: world, random: random, end: Int64(options.end.timeIntervalSince1970))
        let times = simulation.orderTimes(count: options.orders, days: options.days, timeZone: timeZone)
        var written: [String: Int] = [:]
        var first = 0
        while first < times.count {
            let batch = times[first..<min(first + Self.batchSize, times.count)]
            for (offset, time) in batch.enumerated() {
                simulation.order(number: first + offset + 1, at: time, year: year(of: time))
            }
            let tables = simulation.takeRows()
            for table in tables { written[table.table, default: 0] += table.count }
            try await database.withConnection { connection in
                for var rows in tables { try await rows.flush(on: connection, logger: logger) }
            }
            first += Self.batchSize
        }
        try await finish(options)
        let remitted = try await database.query("SELECT count(*) FROM remittances")[0].decode(Int.self)
        return written.map { (table: $0.key, rows: $0.value) }.sorted { $0.table < $1.table } + [("remittances", remitted)]
    }

    private func year(of seconds: Int64) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.component(.year, from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    // MARK: Places and people

    static let hubs = [
        ("VOL-NBO", "Nairobi CBD", "Nairobi"), ("VOL-WST", "Westlands", "Nairobi"), ("VOL-MSA", "Mombasa", "Mombasa"),
        ("VOL-KSM", "Kisumu", "Kisumu"), ("VOL-NKR", "Nakuru", "Nakuru"), ("VOL-ELD", "Eldoret", "Eldoret"),
        ("VOL-THK", "Thika", "Thika"), ("VOL-MCH", "Machakos", "Machakos"),
    ]
    /// Where merchants are and customers live: mostly Nairobi.
    static let hubWeights = [30, 20, 12, 10, 8, 8, 6, 6]
    static let merchants = 200
    static let productsPerMerchant = 20
    static let staffPerHub = 3
    static let initialStock: Int64 = 1_000_000
    static let feesInShillings: [Int64] = [100, 150, 200, 250, 300, 400]
    static let pricesInShillings: [Int64] = [150, 250, 400, 600, 900, 1_200, 1_500, 2_000, 2_500, 3_500, 5_000, 7_500, 12_000, 20_000]
    static let priceWeights = [8, 12, 14, 14, 12, 10, 8, 7, 5, 4, 3, 1, 1, 1]

    private func places(_ random: inout SeededRandom, options: Options) async throws -> VolumeWorld {
        var hubs = BulkRows("hubs", [("id", .uuid), ("code", .text), ("name", .text), ("city", .text), ("address", .text), ("phone", .text)])
        var zones = BulkRows("zones", [("id", .uuid), ("name", .text), ("hub_id", .uuid), ("delivery_fee_cents", .bigint)])
        var users = BulkRows(
            "users", [("id", .uuid), ("email", .text), ("password_hash", .text), ("full_name", .text), ("phone", .text), ("role", .text)])
        var staff = BulkRows("hub_staff", [("user_id", .uuid), ("hub_id", .uuid)])
        var merchants = BulkRows(
            "merchants", [("id", .uuid), ("user_id", .uuid), ("business_name", .text), ("phone", .text), ("home_hub_id", .uuid),
                          ("commission_bps", .int)])
        var categories = BulkRows("categories", [("id", .uuid), ("parent_id", .uuid), ("name", .text), ("slug", .text)])
        var products = BulkRows(
            "products", [("id", .uuid), ("merchant_id", .uuid), ("category_id", .uuid), ("name", .text), ("price_cents", .bigint),
                         ("stock", .int), ("created_at", .time), ("updated_at", .time)])
        var addresses = BulkRows(
            "addresses", [("id", .uuid), ("user_id", .uuid), ("label", .text), ("zone_id", .uuid), ("line1", .text), ("phone", .text)])
        // Accounts that cannot log in: the bench gives the ones it uses a password.
        let noLogin = "volume-seed-no-login"
        var world = VolumeWorld()
        world.admin = random.uuid()
        users.append([Cell.of(world.admin), "vol-admin@volume.hubroute.test", noLogin, "Volume Admin", "254700000000", "admin"])
        for (index, hub) in Self.hubs.enumerated() {
            let id = random.uuid()
            hubs.append([Cell.of(id), hub.0, "\(hub.1) Hub", hub.2, "\(index + 1) Hub Road", "2547110000\(String(format: "%02d", index))"])
            var members: [UUID] = []
            for member in 0..<Self.staffPerHub {
                let user = random.uuid()
                users.append([
                    Cell.of(user), "vol-staff-\(index)-\(member)@volume.hubroute.test", noLogin, "Staff \(member + 1) \(hub.1)",
                    "25472\(String(format: "%07d", index * 10 + member))", "hub_staff",
                ])
                staff.append([Cell.of(user), Cell.of(id)])
                members.append(user)
            }
            world.hubs.append(.init(id: id, staff: members))
            for area in 0..<3 {
                let zone = random.uuid()
                let fee = Self.feesInShillings[random.below(Self.feesInShillings.count)] * Money.centsPerShilling
                let name = "\(hub.1) \(["Central", "North", "South"][area])"
                zones.append([Cell.of(zone), name, Cell.of(id), Cell.of(fee)])
                world.zones.append(.init(id: zone, name: name, hub: index, feeCents: fee))
            }
        }
        let root = random.uuid()
        categories.append([Cell.of(root), Cell.null, "Volume goods", "volume-goods"])
        var leaves: [UUID] = []
        for leaf in ["Phones", "Fashion", "Kitchen", "Groceries", "Beauty", "Books", "Toys", "Hardware"] {
            let id = random.uuid()
            categories.append([Cell.of(id), Cell.of(root), leaf, "volume-\(leaf.lowercased())"])
            leaves.append(id)
        }
        let listed = Int64(options.end.timeIntervalSince1970) - Int64(options.days + 30) * 86_400
        for index in 0..<Self.merchants {
            let user = random.uuid()
            let id = random.uuid()
            let phone = "25473\(String(format: "%07d", index))"
            users.append([Cell.of(user), "vol-merchant-\(index)@volume.hubroute.test", noLogin, "Merchant Owner \(index)", phone, "merchant"])
            let hub = random.weighted(Self.hubWeights)
            let bps = [500, 750, 1000, 1000, 1250, 1500][random.below(6)]
            merchants.append([Cell.of(id), Cell.of(user), "Volume Duka \(index)", phone, Cell.of(world.hubs[hub].id), Cell.of(bps)])
            var own: [VolumeWorld.Product] = []
            for number in 0..<Self.productsPerMerchant {
                let product = random.uuid()
                let price = Self.pricesInShillings[random.weighted(Self.priceWeights)] * Money.centsPerShilling
                let name = "Volume item \(index)-\(number)"
                products.append([
                    Cell.of(product), Cell.of(id), Cell.of(leaves[random.below(leaves.count)]), name, Cell.of(price),
                    Cell.of(Self.initialStock), Cell.time(listed), Cell.time(listed),
                ])
                own.append(.init(id: product, name: name, priceCents: price))
            }
            world.merchants.append(.init(id: id, user: user, hub: hub, bps: bps, products: own))
        }
        for index in 0..<max(options.orders / 3, 1) {
            let user = random.uuid()
            let address = random.uuid()
            let hub = random.weighted(Self.hubWeights)
            let zone = hub * 3 + random.below(3)
            let phone = "2547\(String(format: "%08d", 10_000_000 + index))"
            users.append([Cell.of(user), "vol-customer-\(index)@volume.hubroute.test", noLogin, "Customer \(index)", phone, "customer"])
            addresses.append([Cell.of(address), Cell.of(user), "Home", Cell.of(world.zones[zone].id), "\(index) Volume Lane", phone])
            world.customers.append(.init(id: user, address: address, line1: "\(index) Volume Lane", zone: zone, phone: phone))
        }
        let logger = self.logger
        try await database.withConnection { [hubs, zones, users, staff, merchants, categories, products, addresses] connection in
            for var rows in [hubs, zones, users, staff, merchants, categories, products, addresses] {
                try await rows.flush(on: connection, logger: logger)
            }
        }
        return world
    }

    // MARK: After the orders

    /// Cash remittances (each staff member hands in a day's cash an hour after their last
    /// collection of the day; about one in twenty declares a different amount), stock and
    /// ratings as the orders and reviews left them, the order number sequence, fresh statistics.
    private func finish(_ options: Options) async throws {
        let zone = timeZone.identifier
        let end = options.end
        let seed = String(options.seed)
        try await database.transaction { connection in
            try await connection.exec("SET LOCAL statement_timeout = 0", logger: logger)
            try await connection.exec(
                """
                CREATE TEMP TABLE shifts (id uuid, hub_id uuid, staff_id uuid, day date, expected bigint, remitted_at timestamptz)
                ON COMMIT DROP
                """, logger: logger)
            try await connection.exec(
                """
                INSERT INTO shifts
                SELECT md5(\(seed) || c.hub_id::text || c.staff_id::text || day::text)::uuid, c.hub_id, c.staff_id, day,
                       sum(c.amount_cents), max(c.collected_at) + interval '1 hour'
                FROM cod_collections c CROSS JOIN LATERAL (SELECT (c.collected_at AT TIME ZONE \(zone))::date AS day) d
                GROUP BY c.hub_id, c.staff_id, day
                """, logger: logger)
            try await connection.exec(
                """
                INSERT INTO remittances (id, hub_id, staff_id, expected_cents, declared_cents, created_at)
                SELECT id, hub_id, staff_id, expected,
                       greatest(0, expected + CASE get_byte(decode(md5(id::text), 'hex'), 0) % 20
                                                WHEN 0 THEN -100 * (1 + get_byte(decode(md5(id::text), 'hex'), 1) % 20)
                                                WHEN 1 THEN 100 * (1 + get_byte(decode(md5(id::text), 'hex'), 1) % 5)
                                                ELSE 0 END * 100),
                       remitted_at
                FROM shifts WHERE remitted_at < \(end)
                """, logger: logger)
            try await connection.exec(
                """
                UPDATE cod_collections c SET remittance_id = s.id
                FROM shifts s JOIN remittances r ON r.id = s.id
                WHERE s.hub_id = c.hub_id AND s.staff_id = c.staff_id AND s.day = (c.collected_at AT TIME ZONE \(zone))::date
                """, logger: logger)
            try await connection.exec(
                """
                UPDATE products p SET stock = p.stock - moved.sold + moved.back
                FROM (SELECT product_id, sum(quantity) AS sold, sum(restocked_quantity) AS back FROM order_items GROUP BY product_id) moved
                WHERE moved.product_id = p.id
                """, logger: logger)
            try await connection.exec(
                """
                UPDATE products p SET rating_count = r.count, rating_total = r.total
                FROM (SELECT product_id, count(*) AS count, sum(rating) AS total FROM reviews WHERE hidden_at IS NULL GROUP BY product_id) r
                WHERE r.product_id = p.id
                """, logger: logger)
            try await connection.exec("SELECT setval('order_number_seq', \(options.orders))", logger: logger)
            try await connection.exec("ANALYZE", logger: logger)
        }
    }

    enum SeedError: Error, CustomStringConvertible {
        case notEmpty, nothingToSeed

        var description: String {
            switch self {
            case .notEmpty: "seed-volume fills an empty marketplace; this database has orders already"
            case .nothingToSeed: "seed-volume needs at least one order and one day"
            }
        }
    }
}

/// The places and people orders are made of.
struct VolumeWorld: Sendable {
    struct Hub: Sendable {
        let id: UUID
        let staff: [UUID]
    }
    struct Zone: Sendable {
        let id: UUID
        let name: String
        let hub: Int
        let feeCents: Int64
    }
    struct Product: Sendable {
        let id: UUID
        let name: String
        let priceCents: Int64
    }
    struct Merchant: Sendable {
        let id: UUID
        let user: UUID
        let hub: Int
        let bps: Int
        let products: [Product]
    }
    struct Customer: Sendable {
        let id: UUID
        let address: UUID
        let line1: String
        let zone: Int
        let phone: String
    }

    var admin = UUID()
    var hubs: [Hub] = []
    var zones: [Zone] = []
    var merchants: [Merchant] = []
    var customers: [Customer] = []
}
