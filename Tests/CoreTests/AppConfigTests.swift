import Configuration
import Core
import Testing

@Suite struct AppConfigTests {
    func load(_ values: [String: String]) throws -> AppConfig {
        try AppConfig.load(from: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: values)))
    }

    let database = ["DATABASE_URL": "postgres://postgres@127.0.0.1:5432/hubroute"]
    let strongSecret = "k3J9x0Qm1VZr8Yt2Lp5Wn7Hc4Bd6Fg0Ae2Su9Xo"
    let handoverKey = "Hq7Zt0Lw2Xn9Vb4Rc6Yp1Ms8Kd3Fg5Ja0Ue2Io7"

    var safeProduction: [String: String] {
        database.merging([
            "APP_ENV": "production", "JWT_SECRET": strongSecret, "HANDOVER_CODE_KEY": handoverKey,
            "MPESA_CALLBACK_SECRET": "Zq8Lm2Xw4Vr6Tn0Pk3Hs5Jd7Gf", "DARAJA_CONSUMER_KEY": "live-key", "DARAJA_CONSUMER_SECRET": "live-secret",
            "DARAJA_SHORTCODE": "600999", "DARAJA_PASSKEY": "live-passkey",
            "DARAJA_BASE_URL": "https://api.safaricom.co.ke", "PUBLIC_BASE_URL": "https://api.hubroute.co.ke",
            "DARAJA_B2C_SHORTCODE": "600123", "DARAJA_INITIATOR_NAME": "hubroute-live", "DARAJA_SECURITY_CREDENTIAL": "live-credential",
        ]) { $1 }
    }

    @Test func developmentStartsWithDefaults() throws {
        let config = try load(database)
        #expect(config.environment == .development)
        #expect(config.port == 8080)
        #expect(config.databasePoolSize == 8)
        #expect(config.jwtSecret.revealed == AppConfig.developmentJWTSecret)
    }

    @Test func productionRefusesAMissingJWTSecret() {
        #expect(throws: ConfigurationError(setting: "JWT_SECRET", message: "is required in production")) {
            try load(database.merging(["APP_ENV": "production"]) { $1 })
        }
    }

    @Test func productionRefusesTheDevelopmentSecret() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try load(database.merging(["APP_ENV": "production", "JWT_SECRET": AppConfig.developmentJWTSecret]) { $1 })
        }
        #expect(error?.setting == "JWT_SECRET")
    }

    @Test func productionRefusesAShortSecret() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try load(database.merging(["APP_ENV": "production", "JWT_SECRET": "short-secret-1234"]) { $1 })
        }
        #expect(error?.setting == "JWT_SECRET")
        #expect(error?.message.contains("32 bytes") == true)
    }

    @Test func productionRefusesWeakBcrypt() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try load(safeProduction.merging(["BCRYPT_COST": "4"]) { $1 })
        }
        #expect(error?.setting == "BCRYPT_COST")
    }

    @Test func productionStartsWithSafeSettings() throws {
        let config = try load(safeProduction)
        #expect(config.environment == .production)
        #expect(config.bcryptCost == 12)
    }

    @Test func productionRefusesAMissingOrDefaultHandoverCodeKey() throws {
        var settings = safeProduction
        settings["HANDOVER_CODE_KEY"] = nil
        let missing = #expect(throws: ConfigurationError.self) { try load(settings) }
        #expect(missing?.setting == "HANDOVER_CODE_KEY")
        settings["HANDOVER_CODE_KEY"] = AppConfig.developmentHandoverCodeKey
        let development = #expect(throws: ConfigurationError.self) { try load(settings) }
        #expect(development?.setting == "HANDOVER_CODE_KEY")
    }

    @Test(arguments: ["MPESA_CALLBACK_SECRET", "DARAJA_CONSUMER_KEY", "DARAJA_CONSUMER_SECRET", "DARAJA_SHORTCODE", "DARAJA_PASSKEY"])
    func productionRefusesMissingMpesaSettings(setting: String) throws {
        var settings = safeProduction
        settings[setting] = nil
        let error = #expect(throws: ConfigurationError.self) { try load(settings) }
        #expect(error?.setting == setting)
    }

    @Test func productionRefusesTheDevelopmentCallbackSecret() throws {
        var settings = safeProduction
        settings["MPESA_CALLBACK_SECRET"] = AppConfig.developmentDaraja.callbackSecret
        let error = #expect(throws: ConfigurationError.self) { try load(settings) }
        #expect(error?.setting == "MPESA_CALLBACK_SECRET")
    }

    @Test(arguments: [
        ("DARAJA_BASE_URL", "http://api.safaricom.co.ke"), ("DARAJA_BASE_URL", "https://127.0.0.1:8090"),
        ("PUBLIC_BASE_URL", "https://localhost"), ("PUBLIC_BASE_URL", "http://api.hubroute.co.ke"),
        ("PUBLIC_BASE_URL", "https://[::1]:8080"), ("DARAJA_BASE_URL", "not a url"),
    ])
    func productionRefusesLoopbackOrPlainHTTPAddresses(setting: String, value: String) throws {
        let error = #expect(throws: ConfigurationError.self) { try load(safeProduction.merging([setting: value]) { $1 }) }
        #expect(error?.setting == setting)
    }

    @Test func noSecretShowsWhenAConfigurationIsPrinted() throws {
        // Setup
        let secrets = [
            "JWT_SECRET": "jwt-9b1f0c4e7a2d8f3b6e5c1a0d9f8e7b6c", "HANDOVER_CODE_KEY": "handover-3c8e1f0a9b7d6c5e4f3a2b1c0d9e8f7a",
            "MPESA_CALLBACK_SECRET": "callback-7e6d5c4b3a2f1e0d9c8b", "DARAJA_PASSKEY": "passkey-1a2b3c4d5e6f",
            "DARAJA_CONSUMER_SECRET": "consumer-secret-0f9e8d7c", "DARAJA_CONSUMER_KEY": "consumer-key-5a4b3c2d",
            "DARAJA_SECURITY_CREDENTIAL": "credential-6b5a4c3d2e1f",
            "DATABASE_URL": "postgres://hubroute:db-password-8c7b6a5d@db.internal:5432/hubroute",
        ]
        let config = try load(safeProduction.merging(secrets) { $1 })

        // Act
        var dumped = ""
        dump(config, to: &dumped)
        let printed = [String(describing: config), String(reflecting: config), dumped, "\(config.mpesa)"]

        // Check
        for text in printed {
            for (setting, value) in secrets {
                let secret = setting == "DATABASE_URL" ? "db-password-8c7b6a5d" : value
                #expect(!text.contains(secret), "\(setting) shows when a configuration is printed")
            }
        }
        #expect(config.jwtSecret.revealed == secrets["JWT_SECRET"])
    }

    @Test func trustedProxiesNameTheClient() throws {
        let config = try load(database.merging(["TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.5, fd00::/8"]) { $1 })
        let proxies = config.trustedProxies
        // An untrusted peer is the client, whatever it forwards.
        #expect(proxies.clientAddress(peer: "203.0.113.9", forwardedFor: "1.2.3.4") == "203.0.113.9")
        // A trusted peer: the right-most untrusted hop.
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: "1.2.3.4, 198.51.100.7, 192.168.1.5") == "198.51.100.7")
        #expect(proxies.clientAddress(peer: "fd00::1", forwardedFor: "198.51.100.8") == "198.51.100.8")
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: nil) == "10.1.2.3")
        // Garbage in the header is not an address: the peer stands.
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: "not-an-address") == "10.1.2.3")
        #expect(TrustedProxies.none.clientAddress(peer: "10.1.2.3", forwardedFor: "1.2.3.4") == "10.1.2.3")
        let bad = #expect(throws: ConfigurationError.self) { try load(database.merging(["TRUSTED_PROXIES": "10.0.0.0/33"]) { $1 }) }
        #expect(bad?.setting == "TRUSTED_PROXIES")
    }

    @Test func badValuesNameTheSetting() throws {
        #expect(throws: ConfigurationError.self) { try load([:]) }
        let port = #expect(throws: ConfigurationError.self) { try load(database.merging(["PORT": "eighty"]) { $1 }) }
        #expect(port?.setting == "PORT")
        let environment = #expect(throws: ConfigurationError.self) { try load(database.merging(["APP_ENV": "prod"]) { $1 }) }
        #expect(environment?.setting == "APP_ENV")
    }
}
