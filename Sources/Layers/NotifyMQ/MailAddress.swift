/// A mailbox as a step writes it: `addr@example.com` or `Display Name <addr@example.com>`.
struct MailAddress: Equatable {
    var name: String?
    var address: String

    /// Why `text` is not a mailbox we will put in a header and an SMTP envelope, or nil.
    static func parse(_ text: String) -> Result<MailAddress, MailAddressProblem> {
        if HeaderText.forbiddenCharacter(in: text) != nil { return .failure(.injection) }
        var t = Substring(text)
        while t.first == " " { t.removeFirst() }
        while t.last == " " { t.removeLast() }
        var name: String?
        var addr = t
        if t.hasSuffix(">"), let open = t.lastIndex(of: "<") {
            addr = t[t.index(after: open)..<t.index(before: t.endIndex)]
            var n = t[..<open]
            while n.last == " " { n.removeLast() }
            if n.hasPrefix("\"") && n.hasSuffix("\"") && n.count >= 2 { n = n.dropFirst().dropLast() }
            name = n.isEmpty ? nil : String(n)
        }
        guard isAddress(addr) else { return .failure(.malformed) }
        return .success(MailAddress(name: name, address: String(addr)))
    }

    /// local@domain, printable ASCII or UTF-8 (SMTPUTF8 is the server's business), no spaces, no
    /// characters that would end the `<...>` of an SMTP command or split a header list.
    static func isAddress(_ s: Substring) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, s.utf8.count <= 254 else { return false }
        return !s.utf8.contains { $0 <= 0x20 || $0 == 0x7F || "<>()[],;:\\\"".utf8.contains($0) }
    }

    var domain: String { String(address.split(separator: "@").last ?? "") }

    /// The header form: the name encoded or quoted as needed, then `<address>`.
    var headerValue: String {
        guard let name else { return address }
        return "\(MIMEHeader.phrase(name)) <\(address)>"
    }
}

enum MailAddressProblem: Error {
    case injection, malformed
}
