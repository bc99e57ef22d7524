import ArgumentParser

/// `jalm status ID`: one execution with its steps.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show an execution: its state and each step's attempts, duration, output and error.",
        discussion: """
            Outputs are cut to the terminal's width; --json prints the whole execution view.

            Examples:
              jalm status ex_019ab3c1f2a04f7e2b9c1d
              jalm status ex_019ab3c1f2a04f7e2b9c1d --json | jq '.steps[].output'
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The execution id (from `jalm run` or `jalm ls`).", valueName: "id"))
    var id: String

    func run() throws {
        let view = try global.api().get("/exec/\(escape(id))")
        if global.json { global.printJSON(view) } else { print(ExecutionView(json: view).render()) }
    }
}
