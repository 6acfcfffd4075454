import Foundation
import Yams

enum JSONConversion {
    /// The OpenAPI document as JSON, converted once at start.
    static func json(fromYAML yaml: String) throws -> Data {
        guard let object = try Yams.load(yaml: yaml) else { return Data("{}".utf8) }
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }
}
