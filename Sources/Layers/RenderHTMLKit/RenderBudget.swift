/// What one render may spend, and the hooks swift-mustache calls back into while it renders.
///
/// swift-mustache renders synchronously and cannot be interrupted, has no output limit and no partial
/// depth limit. Every place where its work can multiply goes through this object instead: a lookup
/// (`MustacheScope.child(named:)`), an element of a list (`MustacheList`'s iterator) and the entry into
/// a partial (the guard `TemplatePreparer` wraps around each one). Each adds to `estimate`, an upper
/// bound of the bytes printed so far; once the budget trips, every lookup answers "missing", every list
/// ends and every partial body is skipped, so the render unwinds at once and the call fails.
final class RenderBudget {
    enum Trip: Equatable {
        case output(estimate: Int)
        case partialDepth(partial: String)
        case deadline
        case cancelled
    }

    /// The estimate at which rendering stops: twice `max_output_bytes`, since the estimate counts every
    /// section body whole even where a part of it is not printed. The exact check on the finished
    /// text is against `max_output_bytes` itself.
    let estimateLimit: Int
    let maxPartialDepth: Int
    let deadline: ContinuousClock.Instant
    /// Partial names by guard index (see `TemplatePreparer`), with their text sizes.
    let partials: [(name: String, bytes: Int)]
    /// The largest section body under each name, and of all (`TemplateScan`): what one element of a
    /// list can print from template text.
    let sectionBodies: [String: Int]
    let largestBody: Int

    private(set) var estimate = 0
    private(set) var trip: Trip?
    private var partialDepth = 0
    private var hooks = 0

    /// Strict mode: the variable tags by marker index, and the first one found missing.
    let strictTags: [StrictTag]
    private(set) var missing: StrictTag?
    private var current: (tag: StrictTag, components: [Substring], resolved: Int)?

    init(estimateLimit: Int, maxPartialDepth: Int, deadline: ContinuousClock.Instant,
         partials: [(name: String, bytes: Int)], sectionBodies: [String: Int], largestBody: Int,
         strictTags: [StrictTag]) {
        self.sectionBodies = sectionBodies
        self.largestBody = largestBody
        self.estimateLimit = estimateLimit
        self.maxPartialDepth = maxPartialDepth
        self.deadline = deadline
        self.partials = partials
        self.strictTags = strictTags
    }

    var tripped: Bool { trip != nil }

    /// Adds `bytes` to the estimate; checks the clock and cancellation every 1024 hooks.
    func spend(_ bytes: Int) {
        guard trip == nil else { return }
        estimate += bytes + 1
        hooks += 1
        if estimate > estimateLimit {
            trip = .output(estimate: estimate)
        } else if hooks & 1023 == 0 {
            if Task.isCancelled { trip = .cancelled } else if ContinuousClock.now > deadline { trip = .deadline }
        }
    }

    /// The guard at the top of partial `index`: true to render its body.
    func enterPartial(_ index: Int) -> Bool {
        partialDepth += 1
        guard trip == nil else { return false }
        guard index < partials.count else { return false }
        if partialDepth > maxPartialDepth {
            trip = .partialDepth(partial: partials[index].name)
            return false
        }
        spend(partials[index].bytes)
        return trip == nil
    }

    /// The guard at the bottom of every partial.
    func leavePartial() { partialDepth -= 1 }

    /// Strict mode: the marker placed before variable tag `index` runs just before its lookups.
    func beginVariable(_ index: Int) {
        guard index < strictTags.count else { return }
        let tag = strictTags[index]
        let name = tag.name
        if name == "." || name.isEmpty { current = nil; return }
        current = (tag, name.split(separator: ".", omittingEmptySubsequences: true), 0)
    }

    /// Strict mode: one lookup `name` on `scope` (the root when `isRoot`) gave `found`.
    ///
    /// swift-mustache looks a first name component up in each context from the innermost out, so a
    /// miss on an inner context is not yet a miss; a miss on the root context is, and so is a miss on
    /// any later component (`a.b` once `a` is found) or on a name written with a leading dot.
    func observe(_ name: String, isRoot: Bool, found: Bool) {
        guard var state = current, missing == nil, state.resolved < state.components.count,
              state.components[state.resolved] == name else { return }
        if found {
            state.resolved += 1
            current = state.resolved == state.components.count ? nil : state
            return
        }
        let climbing = state.resolved == 0 && !isRoot && !state.tag.name.hasPrefix(".")
        if climbing { return }
        missing = state.tag
        current = nil
    }
}

/// A variable tag that strict mode checks: its name and where it was written.
struct StrictTag: Sendable, Equatable {
    var name: String
    /// `"template"` for the step's own template, else the partial's name.
    var template: String
    var line: Int
}
