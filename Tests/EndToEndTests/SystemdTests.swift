#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// The unit under a real systemd: scripts/systemd-test.sh boots a Debian root with systemd-nspawn,
/// installs this build into it with scripts/install.sh and checks readiness, group access, restart after
/// kill -9 with the execution resumed, the watchdog, reload and stop (its output says PASS/FAIL/SKIP per
/// check). The fast host-side checks of the unit file run here too.
@Suite(.serialized) struct SystemdTests {
    static let unit = Daemon.repoDir + "/systemd/jalmd.service"

    @Test func theUnitScoresAtMostTwoInSystemdAnalyzeSecurity() throws {
        guard let out = try Self.run(["systemd-analyze", "security", "--offline=yes", Self.unit]) else { return }
        let score = out.output.split(separator: "\n").first { $0.contains("Overall exposure level") }
            .flatMap { line in line.split(separator: " ").compactMap { Double($0) }.first }
        print(out.output.split(separator: "\n").filter { $0.contains("✗") || $0.contains("Overall") }.joined(separator: "\n"))
        let value = try #require(score, "no score in: \(out.output)")
        #expect(value <= 2.0)
    }

    @Test func theUnitFilesAreValid() throws {
        // verify needs ExecStart's binary: point a copy of the unit at this build's jalmd.
        let dir = Daemon.makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
            .replacingOccurrences(of: "/usr/lib/jalm/bin/jalmd", with: Daemon.binDir + "/jalmd")
        try text.write(toFile: dir + "/jalmd.service", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Daemon.repoDir + "/systemd/jalmd.socket", toPath: dir + "/jalmd.socket")
        guard let out = try Self.run(["systemd-analyze", "verify", dir + "/jalmd.service", dir + "/jalmd.socket"]) else { return }
        #expect(out.status == 0, "\(out.output)")
        #expect(!out.output.contains("jalmd.service:") && !out.output.contains("jalmd.socket:"), "\(out.output)")
    }

    @Test func underARealSystemdInAContainer() throws {
        guard let out = try Self.run([Daemon.repoDir + "/scripts/systemd-test.sh", "--bin-dir", Daemon.binDir]) else { return }
        print(out.output)
        if out.status == 77 {
            print("SKIP: the systemd container test could not run here: "
                  + (out.output.split(separator: "\n").last { $0.hasPrefix("SKIP:") }.map(String.init) ?? "?"))
            return
        }
        #expect(out.status == 0, "a check failed; the output above says which")
        #expect(out.output.contains("PASS: active only after READY=1"))
    }

    /// Runs a command, its stderr merged into stdout; nil (reported by `MissingTool`) when it is not installed.
    static func run(_ argv: [String]) throws -> (status: Int32, output: String)? {
        let path = argv[0].hasPrefix("/") ? argv[0] : "/usr/bin/" + argv[0]
        guard FileManager.default.isExecutableFile(atPath: path) else {
            MissingTool.report(argv[0], installedBy: "scripts/deps.d/systemd.apt")
            return nil
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = Array(argv.dropFirst())
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
