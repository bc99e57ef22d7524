#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JALMCore
import JALMDocument
import JALMKernel

/// Where things are: the config file, the environment and flags folded into one `KernelConfig`.
enum Setup {
    static func resolve(flags: JalmdCommand, env: [String: String]) throws -> KernelConfig {
        let bin = executableDirectory()
        var config = KernelConfig(
            dataDirectory: env["STATE_DIRECTORY"]?.split(separator: ":").first.map(String.init) ?? ".jalm",
            shareDirectory: findShareDirectory(from: bin),
            binDirectory: bin)
        if let path = flags.config ?? env["JALM_CONFIG"] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RunnerError(.notFound, "cannot read config file \(path)")
            }
            try config.apply(file: Document.parse(Array(data), contentType: "yaml"), name: path)
        }
        if let v = env["JALM_SHARE"] { config.shareDirectory = v }
        if let v = env["JALM_DATA"] { config.dataDirectory = v }
        if let v = env["JALM_SOCKET"] { config.socketPath = v }
        if let v = env["JALM_LISTEN"] { config.listen = v }
        if let v = env["JALM_TOKEN"], !v.isEmpty { config.token = v }
        if let v = flags.data { config.dataDirectory = v }
        if let v = flags.socket { config.socketPath = v }
        if let v = flags.listen { config.listen = v }
        if config.listen == "none" || config.listen == "" { config.listen = nil }
        config.dataDirectory = absolute(config.dataDirectory)
        config.supervisor.dataDirectory = config.dataDirectory
        // The secret store follows the final data folder (flags and environment included) unless set.
        config.supervisor.secrets = .standard(
            secretsDirectory: config.secretsDirectory.map(absolute) ?? config.dataDirectory + "/secrets")
        config.supervisor.binDirectory = config.binDirectory
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        return config
    }

    /// One daemon per data folder: a second one would resume the first one's executions.
    static func lockDataDirectory(_ dir: String) throws {
        let fd = open(dir + "/jalmd.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RunnerError(.internal, "cannot open \(dir)/jalmd.lock: errno \(errno)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            throw RunnerError(.conflict, "another jalmd is already running with the data folder \(dir)")
        }
        // The fd stays open for the life of the process; the lock goes with it.
    }

    static func executableDirectory() -> String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (path as NSString).deletingLastPathComponent
    }

    /// The folder with `kernel/atoms.csv`: a checkout (walking up from .build/<config>/) or /usr/share/jalm.
    static func findShareDirectory(from bin: String) -> String {
        var dir = bin
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: dir + "/kernel/atoms.csv") { return dir }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return "/usr/share/jalm"
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
