import Core
import Daraja

extension STKCallback {
    var holdsControlCharacters: Bool {
        [merchantRequestID, checkoutRequestID, resultCode, resultDescription, payment?.receiptNumber, payment?.phoneNumber,
         payment?.transactionTimestamp].contains { ControlCharacters.contains($0) }
    }

    var escapingControlCharacters: STKCallback {
        var escaped = self
        escaped.merchantRequestID = ControlCharacters.escaping(merchantRequestID)
        escaped.checkoutRequestID = ControlCharacters.escaping(checkoutRequestID)
        escaped.resultCode = ControlCharacters.escaping(resultCode)
        escaped.resultDescription = ControlCharacters.escaping(resultDescription)
        escaped.payment?.receiptNumber = payment?.receiptNumber.map(ControlCharacters.escaping)
        escaped.payment?.phoneNumber = payment?.phoneNumber.map(ControlCharacters.escaping)
        escaped.payment?.transactionTimestamp = payment?.transactionTimestamp.map(ControlCharacters.escaping)
        return escaped
    }
}
