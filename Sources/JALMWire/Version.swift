/// The version of this build of the runner and of the plugins shipped with it.
public let jalmVersion = "0.1.0"
