import Foundation

/// A JSON string or number kept as its exact text: Daraja sends several fields (`expires_in`,
/// `ResultCode`, callback item values) sometimes as one, sometimes as the other.
struct FlexibleScalar: Decodable, Sendable, Equatable {
    let text: String

    init(text: String) {
        self.text = text
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            text = string.trimmingCharacters(in: .whitespaces)
        } else if let number = try? container.decode(Decimal.self) {
            // JSONDecoder builds a Decimal from the number's digits, so no binary floating
            // point touches an amount: 1.00 stays exactly 1.
            text = number.description
        } else if let flag = try? container.decode(Bool.self) {
            text = String(flag)
        } else {
            throw DecodingError.typeMismatch(
                String.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a string or a number"))
        }
    }

    /// Integer text in canonical form ("0", "1032"), any other text as it came ("TP40").
    var code: String {
        Int64(text).map(String.init) ?? text
    }
}

/// A list Daraja sometimes sends as a single object when it has one element.
struct OneOrMany<Element: Decodable>: Decodable {
    let elements: [Element]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let list = try? container.decode([Element].self) {
            elements = list
        } else {
            elements = [try container.decode(Element.self)]
        }
    }
}

/// Exact conversions of amount text, without floating point (SPEC section 2).
enum ExactAmount {
    /// Cents in a shilling amount written "150", "150.5" or "150.50"; nil for anything else
    /// (signs, exponents, fractions of a cent).
    static func cents(fromShillings text: String) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !whole.isEmpty, fraction.count <= 2 || fraction.dropFirst(2).allSatisfy({ $0 == "0" }),
            (whole + fraction).allSatisfy({ $0.isASCII && $0.isNumber }),
            let shillings = Int64(whole)
        else { return nil }
        let centsText = String((fraction.prefix(2) + "00").prefix(2))
        let (scaled, overflow) = shillings.multipliedReportingOverflow(by: 100)
        guard !overflow, let fractionCents = Int64(centsText) else { return nil }
        let (cents, sumOverflow) = scaled.addingReportingOverflow(fractionCents)
        return sumOverflow ? nil : cents
    }
}
