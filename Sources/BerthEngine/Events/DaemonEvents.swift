/// SIGHUP's reload through the engine, so that it emits dockerd's `daemon reload` event:
/// the daemon's ID as actor, the settings a reload applies, and the host's name.
extension Engine {
    public func reload(from options: DaemonOptions) {
        settings.reload(from: options)
        // Only what Berth really reloads or runs with; dockerd's registry and download
        // settings do not exist here, so they are not reported.
        events.publish(.daemon, "reload", actor: system.daemonID, attributes: [
            "debug": String(options.debug), "live-restore": String(settings.liveRestore), "name": SystemInfo.hostname,
        ])
    }
}
