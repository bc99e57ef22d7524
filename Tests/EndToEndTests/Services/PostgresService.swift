import JALMWire
import PostgresTestServer

/// A real PostgreSQL (Debian's server binaries) on a free 127.0.0.1 port, for io-db's examples and tests.
/// io-db reaches it as two databases: `pg` and `pg_ro` (`read_only: true`), both by the DSN in the
/// secret `pg_dsn`.
final class PostgresService: TestService {
    let server: PostgresTestServer

    init() throws { server = try PostgresTestServer() }

    var vars: [String: JSONValue] { ["pg_port": .int(Int64(server.port))] }

    var layerConfig: [String: JSONValue] {
        ["io-db": ["databases": [
            "pg": ["engine": "postgres", "dsn": ["secret": "pg_dsn"], "pool": 2],
            "pg_ro": ["engine": "postgres", "dsn": ["secret": "pg_dsn"], "read_only": true, "pool": 1],
        ]]]
    }

    var secrets: [String: String] { ["pg_dsn": server.dsn] }

    func stop() { server.stop() }
}
