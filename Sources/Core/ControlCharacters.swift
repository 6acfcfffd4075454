import Foundation

/// Text from Daraja that PostgreSQL cannot store or no M-Pesa value would hold: control
/// characters of C0 (NUL above all). Kept visible as `\u0000`-style escapes, never dropped.
public enum ControlCharacters {
    public static func contains(_ text: String?) -> Bool {
        text?.unicodeScalars.contains { $0.value < 0x20 } ?? false
    }

    public static func escaping(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 {
                escaped += String(format: "\\u%04X", scalar.value)
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// A JSON document with every string's control characters escaped as text, so it stores in
    /// `jsonb`; a body that is not JSON at all is kept as one escaped string.
    public static func escaping(json body: Data) -> String {
        func clean(_ value: Any) -> Any {
            switch value {
            case let text as String: escaping(text)
            case let array as [Any]: array.map(clean)
            case let object as [String: Any]: Dictionary(uniqueKeysWithValues: object.map { (escaping($0.key), clean($0.value)) })
            default: value
            }
        }
        let parsed = (try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]))
            ?? String(decoding: body, as: UTF8.self)
        let data = (try? JSONSerialization.data(withJSONObject: clean(parsed), options: [.fragmentsAllowed])) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

