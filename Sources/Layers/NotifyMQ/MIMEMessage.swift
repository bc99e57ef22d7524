/// An RFC 5322 / MIME message built from a step's fields. Pure: the date, Message-ID and boundary are
/// given, so the same input always makes the same bytes.
///
/// Headers are printable ASCII (non-ASCII text as RFC 2047 encoded-words); bodies are UTF-8 in
/// quoted-printable; every line ends in CRLF; text and HTML together make a multipart/alternative
/// (text first: clients show the last part they understand). Bcc never appears in the headers.
struct MIMEMessage {
    var from: MailAddress
    var to: [MailAddress]
    var cc: [MailAddress]
    var replyTo: MailAddress?
    var subject: String
    var text: String?
    var html: String?
    /// `Date:` value, RFC 5322 form (`Tue, 24 Nov 2026 16:52:00 +0000`).
    var date: String
    /// `Message-ID:` value with its angle brackets.
    var messageID: String
    var idempotencyKey: String?
    var boundary: String

    static let idempotencyHeader = "X-JALM-Idempotency-Key"

    func render() -> [UInt8] {
        var h: [String] = []
        h.append("Date: \(date)")
        h.append("From: \(from.headerValue)")
        if !to.isEmpty { h.append("To: " + to.map(\.headerValue).joined(separator: ",\r\n ")) }
        if !cc.isEmpty { h.append("Cc: " + cc.map(\.headerValue).joined(separator: ",\r\n ")) }
        if let replyTo { h.append("Reply-To: \(replyTo.headerValue)") }
        h.append("Subject: \(MIMEHeader.unstructured(subject))")
        h.append("Message-ID: \(messageID)")
        if let idempotencyKey { h.append("\(Self.idempotencyHeader): \(idempotencyKey)") }
        h.append("MIME-Version: 1.0")
        var out = h.joined(separator: "\r\n") + "\r\n"
        switch (text, html) {
        case (let t?, let html?):
            out += "Content-Type: multipart/alternative; boundary=\"\(boundary)\"\r\n\r\n"
            out += "This is a multi-part message in MIME format.\r\n"
            out += "--\(boundary)\r\n" + Self.part(t, subtype: "plain")
            out += "\r\n--\(boundary)\r\n" + Self.part(html, subtype: "html")
            out += "\r\n--\(boundary)--\r\n"
        case (let t?, nil):
            out += Self.part(t, subtype: "plain") + "\r\n"
        case (nil, let html?):
            out += Self.part(html, subtype: "html") + "\r\n"
        case (nil, nil):
            out += Self.part("", subtype: "plain") + "\r\n"
        }
        return Array(out.utf8)
    }

    /// One body part's headers and quoted-printable content (no trailing CRLF).
    static func part(_ body: String, subtype: String) -> String {
        "Content-Type: text/\(subtype); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            + QuotedPrintable.encode(body)
    }
}
