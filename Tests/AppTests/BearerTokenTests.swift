import Testing

@testable import Server

@Suite struct BearerTokenTests {
    func token(_ authorization: String?) -> String? {
        RequestInfo(id: "r", clientIP: "127.0.0.1", authorization: authorization).bearerToken
    }

    @Test func theSchemeIsMatchedInAnyCaseAndTheTokenTrimmed() {
        #expect(token("Bearer abc.def") == "abc.def")
        #expect(token("bearer abc.def") == "abc.def")
        #expect(token("BEARER  \tabc.def \t") == "abc.def")
        #expect(token("Bearer  ") == "")
    }

    @Test func anythingElseIsNoBearerToken() {
        #expect(token(nil) == nil)
        #expect(token("Bearer") == nil)
        #expect(token("Bearer ") == nil)
        #expect(token("Basic abc") == nil)
        #expect(token("Bearerabc.def") == nil)
        #expect(token("Bëarer abc") == nil)
        #expect(token("bearer\u{0}abc") == nil)
    }
}
