import Foundation

/// A fresh temporary folder, removed by `remove()`.
struct TempFolder {
    let path: String

    init(_ label: String) throws {
        let tmp = NSTemporaryDirectory().hasSuffix("/") ? String(NSTemporaryDirectory().dropLast()) : NSTemporaryDirectory()
        var template = Array((tmp + "/jalm-sandbox-\(label)-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: made)
    }

    func write(_ relative: String, _ text: String) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
    }

    func read(_ relative: String) -> String? { try? String(contentsOfFile: path + "/" + relative, encoding: .utf8) }

    func mkdir(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: path + "/" + relative, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A child process whose stdout and stderr are collected.
struct Child {
    let process = Process()
    let out = Pipe()
    let err = Pipe()

    init(_ path: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// Waits for the exit; returns (signal or nil, status, stdout, stderr).
    func finish() -> (signal: Int32?, status: Int32, stdout: String, stderr: String) {
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let signal = process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil
        return (signal, process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func kill() {
        if process.isRunning { Foundation.kill(pid, SIGKILL) }
    }
}

/// The repository's sandbox folder (groups.yml), found from this file's path.
let repositorySandboxFolder: String = {
    var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path + "/sandbox"
}()
