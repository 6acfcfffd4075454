import Core
import Foundation
import HTTPTypes
import Hummingbird
import Identity
import Mustache

/// Renders the console's Mustache templates (`Templates/*.mustache`, resources of this module)
/// inside the layout. `{{ }}` escapes everything for HTML; the templates never use `{{{ }}}`.
struct Pages: Sendable {
    let library: MustacheLibrary
    /// `Assets/console.css`, served at /console/assets/console.css.
    let stylesheet: String

    init() throws {
        guard let resources = Bundle.module.resourceURL,
            let names = try? FileManager.default.contentsOfDirectory(atPath: resources.appendingPathComponent("Templates").path)
        else { throw ConfigurationError(setting: "console templates", message: "are missing from the service's resources") }
        var templates: [String: MustacheTemplate] = [:]
        for name in names where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: resources.appendingPathComponent("Templates").appendingPathComponent(name), encoding: .utf8)
            templates[String(name.dropLast(".mustache".count))] = try MustacheTemplate(string: text)
        }
        self.library = MustacheLibrary(templates: templates)
        self.stylesheet = try String(contentsOf: resources.appendingPathComponent("Assets/console.css"), encoding: .utf8)
    }

    /// What the layout reads; `page` is the template's own model.
    struct Screen {
        let title: String
        let nav: [NavLink]
        let hasNav: Bool
        let role: String?
        let csrf: String?
        let flash: String?
        let failure: Failure?
        /// What was typed into the form that failed, to show it again.
        let typed: [String: String]
        let page: Any
    }

    struct NavLink {
        let label: String
        let href: String
    }

    static let hubNav = [NavLink(label: "Parcels", href: "/console/hub"), NavLink(label: "My cash", href: "/console/hub/cash")]
    static let adminNav = [
        NavLink(label: "Refunds", href: "/console/admin/refunds"), NavLink(label: "Payments", href: "/console/admin/payments"),
        NavLink(label: "Applications", href: "/console/admin/merchant-applications"), NavLink(label: "Hubs", href: "/console/admin/hubs"),
        NavLink(label: "Zones", href: "/console/admin/zones"), NavLink(label: "Categories", href: "/console/admin/categories"),
        NavLink(label: "Analytics", href: "/console/admin/analytics/sales"),
    ]

    func render(
        _ template: String, title: String, session: ConsoleSessions.Session?, page: Any, failure: Failure? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let role = session?.principal.role
        let nav = role == .admin ? Self.adminNav : role == .hubStaff ? Self.hubNav : []
        let screen = Screen(
            title: title, nav: nav, hasNav: !nav.isEmpty, role: role == .admin ? "Admin" : role == .hubStaff ? "Hub staff" : nil,
            csrf: session?.csrfToken, flash: session?.flash, failure: failure, typed: failure?.values ?? [:], page: page)
        let html = library.render(screen, withTemplate: template) ?? ""
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page that only says something (errors, refusals), with one way on.
    func message(status: HTTPResponse.Status, title: String, detail: String, link: (label: String, href: String)) -> Response {
        render("message", title: title, session: nil, page: ["detail": detail, "linkLabel": link.label, "linkHref": link.href], status: status)
    }

    func wrongRole() -> Response {
        message(status: .forbidden, title: "Not for your role", detail: "This part of the console belongs to another role.", link: ("Back to the console", "/console"))
    }

    /// 303: the browser follows with a GET, so reloading the next page repeats nothing.
    func redirect(to path: String) -> Response {
        Response(status: .seeOther, headers: [.location: path])
    }
}

/// A refusal shown on the form that caused it, in the service's words.
struct Failure: Sendable {
    struct Field: Sendable {
        let label: String
        let message: String
    }

    let title: String
    let detail: String?
    let fields: [Field]
    /// The answer's status: the problem's (422, 409, 429, ...).
    let status: HTTPResponse.Status
    /// What was typed into the form that failed.
    var values: [String: String] = [:]

    init(_ problem: Problem) {
        self.status = .init(code: problem.status)
        self.fields = problem.errors.map { Field(label: Self.label(problem.code == "cod_amount_mismatch" ? "cash" : $0.field), message: $0.message) }
        switch problem.code {
        case "cod_amount_mismatch":
            // The service speaks cents; the counter speaks shillings.
            if case .int(let total)? = problem.extensions["total_cents"] {
                self.title = "Wrong cash amount"
                self.detail = "Collect exactly \(Shillings.format(total)) for this parcel."
                return
            }
        default:
            break
        }
        // A validation problem's detail only repeats its fields.
        let validation = problem.code == Problem.validation([]).code
        self.title = validation ? "Please check the form" : problem.title
        self.detail = validation ? nil : problem.detail
    }

    init(title: String, detail: String, status: HTTPResponse.Status) {
        self.status = status
        self.title = title
        self.detail = detail
        self.fields = []
    }

    /// The same failure, with what was typed to show again.
    func keeping(_ form: FormData) -> Failure {
        var copy = self
        copy.values = form.values
        return copy
    }

    /// `cod_collected_cents` reads as "Cod collected": the API's field names, for people.
    static func label(_ field: String) -> String {
        let words = field.replacingOccurrences(of: "_cents", with: "").replacingOccurrences(of: "_", with: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }
}

/// Amounts as people read and type them: KES with thousands separators, whole shillings and
/// cents; integers all the way (SPEC section 2).
enum Shillings {
    static func format(_ cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let whole = String(magnitude / 100)
        var grouped = ""
        for (index, digit) in whole.enumerated() {
            if index > 0 && (whole.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        let fraction = magnitude % 100
        return "KES \(sign)\(grouped).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Cents from what was typed in shillings ("1,350", "1350.5", "KES 1350.00"); nil for
    /// anything else, or more than the money path ever holds.
    static func cents(_ text: String) -> Int64? {
        var cleaned = text.trimmingCharacters(in: .whitespaces).uppercased()
        if cleaned.hasPrefix("KES") { cleaned = String(cleaned.dropFirst(3)).trimmingCharacters(in: .whitespaces) }
        cleaned = cleaned.replacingOccurrences(of: ",", with: "")
        let parts = cleaned.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholeText = parts.first, (1...12).contains(wholeText.count), wholeText.allSatisfy({ $0.isASCII && $0.isNumber }),
            let whole = Int64(wholeText)
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let text = parts[1]
            guard (1...2).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(text) else { return nil }
            fraction = text.count == 1 ? value * 10 : value
        }
        return whole * 100 + fraction
    }

    /// A form's amount field as cents, or a validation problem naming the field.
    static func required(_ form: FormData, _ field: String) throws -> Int64 {
        guard let cents = cents(form[field]) else {
            throw Problem.validation(field: field, "must be an amount in shillings, such as 1350 or 1,350.50")
        }
        return cents
    }
}

/// Dates as staff read them, in the business time zone.
struct DateText: Sendable {
    let style: Date.FormatStyle

    init(timeZone identifier: String) {
        self.style = Date.FormatStyle(
            date: .abbreviated, time: .shortened, locale: Locale(identifier: "en_GB"),
            timeZone: TimeZone(identifier: identifier) ?? .gmt)
    }

    func format(_ date: Date) -> String { style.format(date) }
}
