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

    @Test func badValuesNameTheSetting() throws {
        #expect(throws: ConfigurationError.self) { try load([:]) }
        let port = #expect(throws: ConfigurationError.self) { try load(database.merging(["PORT": "eighty"]) { $1 }) }
        #expect(port?.setting == "PORT")
        let environment = #expect(throws: ConfigurationError.self) { try load(database.merging(["APP_ENV": "prod"]) { $1 }) }
        #expect(environment?.setting == "APP_ENV")
    }
}
