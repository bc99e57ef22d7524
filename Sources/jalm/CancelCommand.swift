import ArgumentParser

/// `jalm cancel ID`: stop an execution that has not ended.
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a pending or running execution.",
        discussion: """
            The step in flight is told to stop (its plugin gets `cancel`); later steps do not run. \
            Cancelling an execution that already ended is refused (conflict, exit 1).

            Example:
              jalm cancel ex_019ab3c1f2a04f7e2b9c1d
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The execution id.", valueName: "id"))
    var id: String

    func run() throws {
        let view = try global.api().post("/exec/\(escape(id))/cancel")
        if global.json { global.printJSON(view) } else { print(ExecutionView(json: view).render()) }
    }
}
