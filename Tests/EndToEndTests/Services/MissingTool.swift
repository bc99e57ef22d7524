import Foundation
import Testing

/// A tool a test needs is not installed. `scripts/test.sh` installs every one of them first
/// (`scripts/deps.sh`), so under it (and in CI) this is a failure, never a quiet pass. A developer who runs
/// `swift test` without the tools on purpose sets `JALM_ALLOW_MISSING_TOOLS=1` to have such tests print
/// SKIP instead.
enum MissingTool {
    static func report(_ what: String, installedBy source: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let message = "\(what) is not installed; scripts/test.sh installs it (\(source))"
        if ProcessInfo.processInfo.environment["JALM_ALLOW_MISSING_TOOLS"] == "1" {
            print("SKIP: \(message)")
        } else {
            Issue.record(Comment(rawValue: message + ". Set JALM_ALLOW_MISSING_TOOLS=1 to skip instead."),
                         sourceLocation: sourceLocation)
        }
    }
}
