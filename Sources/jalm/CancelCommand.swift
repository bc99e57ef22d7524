import ArgumentParser

/// `jalm cancel ID`: stop an execution that has not ended.
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a pending or running execution.",
        discussion: """
            Steps in flight are told to stop; steps not yet started are skipped. Cancelling an \
            execution that already ended is refused (conflict, exit 1).

            Example:
              jalm cancel 01JX3Q8V2Z
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The execution id.", valueName: "id"))
    var id: String

    func run() throws {
        let view = try global.api().post("/exec/\(escape(id))/cancel")
        if global.json { global.printJSON(view) } else { print(ExecutionView(json: view).render()) }
    }
}
