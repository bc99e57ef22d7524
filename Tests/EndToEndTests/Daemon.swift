#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMClient
import JALMWire
import Testing

/// A real `jalmd` in a temp folder, with its real plugins (or fixture plugins in some layers' places),
/// reached over its real control socket.
final class Daemon: @unchecked Sendable {
    let dataDir: String
    let shareDir: String
    let socketPath: String
    private(set) var pid: pid_t = 0
    private let logPath: String
    private let extraConfig: String
    /// Extra environment for jalmd (e.g. `NOTIFY_SOCKET`).
    private let environment: [String: String]

    static let binDir: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var dir = (exe as NSString).deletingLastPathComponent
        // swift test runs .build/<triple>/debug/<pkg>PackageTests.xctest
        if !FileManager.default.fileExists(atPath: dir + "/jalmd") { dir = ProcessInfo.processInfo.environment["JALM_BIN_DIR"] ?? dir }
        return dir
    }()

    static let repoDir: String = {
        var dir = binDir
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: dir + "/kernel/atoms.csv") { return dir }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return FileManager.default.currentDirectoryPath
    }()

    /// - Parameters:
    ///   - fixtures: layers to serve with `jalm-fixture-layer MODE` instead of their plugin.
    ///   - config: extra lines for jalmd.yml.
    /// - Parameters:
    ///   - manifests: layers whose plugin.yml is replaced by this text.
    ///   - pluginDirectories: layers served by the plugin folder at this path (its plugin.yml and files).
    init(fixtures: [String: String] = [:], manifests: [String: String] = [:], pluginDirectories: [String: String] = [:],
         config: String = "", secrets: [String: String] = [:],
         dataDir: String? = nil, extraCards: [String: String] = [:], systemOpsOnly: Set<String> = [],
         waitForHealth: Bool = true, environment: [String: String] = [:]) throws {
        self.environment = environment
        let root = Daemon.makeTempDir()
        self.dataDir = dataDir ?? root + "/data"
        self.shareDir = root + "/share"
        self.socketPath = root + "/jalmd.sock"
        self.logPath = root + "/jalmd.log"
        self.extraConfig = config
        let fm = FileManager.default
        try fm.createDirectory(atPath: shareDir + "/plugins", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: shareDir + "/sandbox", withDestinationPath: Daemon.repoDir + "/sandbox")
        if extraCards.isEmpty && systemOpsOnly.isEmpty {
            try fm.createSymbolicLink(atPath: shareDir + "/kernel", withDestinationPath: Daemon.repoDir + "/kernel")
        } else {
            // A test-only op: copy the catalog and add its atoms row and step card.
            try fm.copyItem(atPath: Daemon.repoDir + "/kernel", toPath: shareDir + "/kernel")
            // A catalog in which these layers have only the sys.* ops: a stand-in plugin (the Python example)
            // can then serve one of them without announcing its real ops.
            if !systemOpsOnly.isEmpty {
                let keep = { (name: Substring) -> Bool in
                    !systemOpsOnly.contains { name.hasPrefix($0 + ".") && !name.hasPrefix($0 + ".sys.") }
                }
                for card in try fm.contentsOfDirectory(atPath: shareDir + "/kernel/step_cards")
                where !keep(Substring(card)) {
                    try fm.removeItem(atPath: shareDir + "/kernel/step_cards/" + card)
                }
                let csv = try String(contentsOfFile: shareDir + "/kernel/atoms.csv", encoding: .utf8)
                try csv.split(separator: "\n").filter { keep($0) }.joined(separator: "\n").appending("\n")
                    .write(toFile: shareDir + "/kernel/atoms.csv", atomically: true, encoding: .utf8)
            }
            for (name, card) in extraCards {
                try card.write(toFile: shareDir + "/kernel/step_cards/\(name).yml", atomically: true, encoding: .utf8)
                let parts = name.split(separator: ".", maxSplits: 1)
                let side = card.split(separator: "\n").first { $0.hasPrefix("side_effect:") }?
                    .split(separator: " ").last.map(String.init) ?? "none"
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: shareDir + "/kernel/atoms.csv"))
                handle.seekToEndOfFile()
                handle.write(Data("\(name),\(parts[0]),\(side),test\n".utf8))
                handle.closeFile()
            }
        }
        for layer in try fm.contentsOfDirectory(atPath: Daemon.repoDir + "/plugins") where !layer.hasPrefix(".") {
            guard fm.fileExists(atPath: Daemon.repoDir + "/plugins/\(layer)/plugin.yml") else { continue }
            if let dir = pluginDirectories[layer] {
                try fm.createSymbolicLink(atPath: shareDir + "/plugins/\(layer)", withDestinationPath: dir)
                continue
            }
            try fm.createDirectory(atPath: shareDir + "/plugins/\(layer)", withIntermediateDirectories: true)
            var manifest = try String(contentsOfFile: Daemon.repoDir + "/plugins/\(layer)/plugin.yml", encoding: .utf8)
            if let text = manifests[layer] {
                manifest = text
            } else if let mode = fixtures[layer] {
                manifest = """
                    name: \(layer)
                    executable: \(Daemon.binDir)/jalm-fixture-layer
                    args: [\(mode)]
                    pool: 1
                    max_inflight: 8
                    env: {JALM_FIXTURE_LAYER: \(layer), JALM_FIXTURE_OPS: "\(Daemon.catalogOps(of: layer).joined(separator: ","))"}
                    """
            }
            try manifest.write(toFile: shareDir + "/plugins/\(layer)/plugin.yml", atomically: true, encoding: .utf8)
            // The plugin's other files (compute-script's zygote.py), copied: Landlock follows a symlink.
            for file in try fm.contentsOfDirectory(atPath: Daemon.repoDir + "/plugins/\(layer)") where file != "plugin.yml" {
                try fm.copyItem(atPath: Daemon.repoDir + "/plugins/\(layer)/\(file)", toPath: shareDir + "/plugins/\(layer)/\(file)")
            }
        }
        try writeSecrets(secrets)
        try start(waitForHealth: waitForHealth)
    }

    /// Writes each secret as `<data>/secrets/NAME` (folder 0700, files 0600), as an operator would.
    func writeSecrets(_ secrets: [String: String]) throws {
        guard !secrets.isEmpty else { return }
        let dir = dataDir + "/secrets"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        for (name, value) in secrets {
            try value.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
            chmod(dir + "/" + name, 0o600)
        }
    }

    /// The ops kernel/atoms.csv routes to `layer` (`io-file.read` → `read`).
    static func catalogOps(of layer: String) -> [String] {
        let csv = (try? String(contentsOfFile: repoDir + "/kernel/atoms.csv", encoding: .utf8)) ?? ""
        return csv.split(separator: "\n").compactMap { line in
            let name = line.split(separator: ",").first.map(String.init) ?? ""
            return name.hasPrefix(layer + ".") ? String(name.dropFirst(layer.count + 1)) : nil
        }
    }

    static func makeTempDir() -> String {
        var template = Array("/tmp/jalm-e2e-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: p!)
    }

    /// Starts (or restarts) jalmd on the same data folder and waits for its socket to answer.
    func start(waitForHealth: Bool = true) throws {
        let configPath = dataDir + ".yml"
        try """
            data: \(dataDir)
            socket: \(socketPath)
            listen: none
            share: \(shareDir)
            bin: \(Daemon.binDir)
            \(extraConfig)
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        pid = try Daemon.spawn(Daemon.binDir + "/jalmd", ["--config", configPath], log: logPath, env: environment)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let (status, _) = try? request("GET", "/health"), !waitForHealth || status == 200 { return }
            if !isRunning { throw DaemonError("jalmd exited at start: \(log)") }
            usleep(20_000)
        }
        throw DaemonError("jalmd did not become healthy in 20 s: \(log)")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    func request(_ method: String, _ path: String, json: JSONValue? = nil, body: [UInt8]? = nil,
                 contentType: String? = nil, timeout: Double = 30) throws -> (Int, JSONValue) {
        let client = UnixHTTPClient(endpoint: .unix(path: socketPath), timeout: timeout)
        let bytes = body ?? json.map { JSONWriter.bytes($0) } ?? []
        let r = try client.send(method: method, path: path, body: bytes,
                                contentType: contentType ?? (json != nil ? "application/json" : nil))
        return (r.status, (try? JSONParser.parse(r.body)) ?? .string(String(decoding: r.body, as: UTF8.self)))
    }

    /// Submits a capsule and waits for its end; returns the execution view.
    func run(_ capsule: JSONValue, wait seconds: Int = 30) throws -> JSONValue {
        let (status, view) = try request("POST", "/exec?wait=\(seconds)", json: capsule, timeout: Double(seconds + 10))
        guard status == 200 else { throw DaemonError("POST /exec answered \(status): \(view)") }
        return view
    }

    func layer(_ name: String) throws -> JSONValue {
        try request("GET", "/layers/\(name)").1
    }

    func layerPID(_ name: String) throws -> pid_t? {
        try layer(name)["processes"]?[0]?["pid"]?.intValue.map { pid_t($0) }
    }

    /// Polls `condition` every 20 ms for up to `seconds`.
    func waitUntil(_ seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return false
    }

    func signal(_ sig: Int32) { kill(pid, sig) }

    /// Sends SIGTERM and waits for the exit status.
    func terminate(timeout: Double = 30) -> Int32? {
        kill(pid, SIGTERM)
        return waitExit(timeout: timeout)
    }

    func kill9() {
        kill(pid, SIGKILL)
        _ = waitExit(timeout: 10)
    }

    func waitExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return (status >> 8) & 0xFF }
            usleep(10_000)
        }
        return nil
    }

    deinit {
        if pid > 0 && isRunning {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    static func spawn(_ path: String, _ args: [String], log: String, env: [String: String] = [:]) throws -> pid_t {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        environment.removeValue(forKey: "JALM_DATA")
        environment.removeValue(forKey: "JALM_SOCKET")
        environment.removeValue(forKey: "JALM_LISTEN")
        let argv = ([path] + args).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &fileActions, nil, argv, envp)
        guard rc == 0 else { throw DaemonError("cannot start \(path): errno \(rc)") }
        return pid
    }
}

struct DaemonError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
