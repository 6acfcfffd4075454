import DarajaSimulator
import Foundation
import Hummingbird
import Logging

// `daraja-sim`: the Daraja simulator as a server for the development run (SPEC section 15).
// Settings come from the environment; the defaults match Daraja's public sandbox shortcode and
// passkey, so a development `.env` can point the service at it unchanged.

let environment = ProcessInfo.processInfo.environment
let logger = Logger(label: "daraja-sim")

func setting(_ name: String) -> String? {
    environment[name].flatMap { $0.isEmpty ? nil : $0 }
}

func numericSetting(_ name: String, default fallback: Int) -> Int {
    guard let text = setting(name) else { return fallback }
    guard let value = Int(text), value >= 0 else {
        FileHandle.standardError.write(Data("daraja-sim: \(name) must be a non-negative integer\n".utf8))
        exit(1)
    }
    return value
}

var configuration = SimulatorConfiguration(port: numericSetting("PORT", default: 8090))
configuration.host = setting("HOST") ?? configuration.host
configuration.consumerKey = setting("DARAJA_CONSUMER_KEY") ?? configuration.consumerKey
configuration.consumerSecret = setting("DARAJA_CONSUMER_SECRET") ?? configuration.consumerSecret
configuration.passkeysByShortcode = [
    setting("DARAJA_SHORTCODE") ?? SimulatorConfiguration.sandboxShortcode:
        setting("DARAJA_PASSKEY") ?? SimulatorConfiguration.sandboxPasskey
]
configuration.b2cShortcode = setting("DARAJA_B2C_SHORTCODE") ?? configuration.b2cShortcode
configuration.callbackTiming = .after(.milliseconds(numericSetting("DARAJA_SIM_CALLBACK_DELAY_MS", default: 1000)))
// Optional: check B2C security credentials against a key pair made at start; its public key is
// served at /simulator/public-key.pem for producing the credential.
if let initiatorPassword = setting("DARAJA_SIM_INITIATOR_PASSWORD") {
    configuration.initiatorCredentials = try InitiatorCredentials.generate(initiatorPassword: initiatorPassword)
    logger.info("B2C security credentials are checked; public key at /simulator/public-key.pem")
}

try await DarajaSimulator(configuration: configuration, logger: logger).buildApplication().runService()
