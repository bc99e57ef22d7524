import JALMCore
import JALMWire

/// The `invalid_input` error every capsule rule of this module raises.
func invalid(_ message: String, at pointer: JSONPointer) -> RunnerError {
    RunnerError(.invalidInput, message, at: pointer)
}
