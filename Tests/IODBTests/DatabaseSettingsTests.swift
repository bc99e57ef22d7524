@testable import jalm_layer_io_db
import JALMWire
import Testing

/// Layer settings: `main` exists out of the box, databases are declared by name, and wrong settings stop
/// the plugin with a message naming the key.
struct DatabaseSettingsTests {
    @Test func mainExistsWithoutSettings() throws {
        let s = try DatabaseSettings.parse([:])
        #expect(s["main"] == DatabaseSettings.main)
    }

    @Test func declaredDatabasesAreRead() throws {
        let s = try DatabaseSettings.parse(["databases": [
            "crm": ["engine": "postgres", "dsn": "host=127.0.0.1 dbname=crm", "read_only": true, "pool": 3],
            "cache": ["file": "cache.db", "busy_timeout_ms": 100],
        ]])
        #expect(s["crm"]?.engine == .postgres(dsn: "host=127.0.0.1 dbname=crm") && s["crm"]?.readOnly == true && s["crm"]?.poolSize == 3)
        #expect(s["cache"]?.engine == .sqlite(file: "cache.db") && s["cache"]?.busyTimeoutMs == 100)
        #expect(s["main"] != nil)
    }

    @Test(arguments: [
        ["databases": ["x": ["file": "../escape.db"]]] as JSONValue,
        ["databases": ["x": ["file": "a/b.db"]]],
        ["databases": ["bad name": [:]]],
        ["databases": ["x": ["engine": "postgres"]]],
        ["databases": ["x": ["engine": "mysql"]]],
        ["databases": ["x": ["pool": 0, "engine": "postgres", "dsn": "x"]]],
        ["databases": ["x": ["typo": 1]]],
        ["dbs": [:]],
    ])
    func wrongSettingsAreRefused(_ config: JSONValue) {
        #expect(throws: SettingsError.self) { try DatabaseSettings.parse(config) }
    }
}
