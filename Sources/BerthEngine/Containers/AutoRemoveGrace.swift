extension ContainerService {
    /// How long an AutoRemove container that exited by itself stays when nobody waits to see
    /// it removed. docker-py's `containers.run(..., auto_remove=True)` asks for the logs and
    /// the exit status only after the start has answered: with Berth's immediate removal that
    /// found no container 9 times in 10 (dockerd's removal is slow enough to let it, most of
    /// the time). `docker run --rm` waits for the removal itself, and gets it at once; so does
    /// a container that the user stopped or killed (see handleExit).
    static let autoRemoveGrace: Duration = .seconds(1)

    /// Whether the container is an AutoRemove one that has exited and only waits out its grace:
    /// as good as removed, which dockerd would have done already.
    func isDueForAutoRemoval(_ id: String) -> Bool {
        guard let entry = entries[id], entry.hostConfig.AutoRemove == true, !entry.busy, !entry.manualRestart else { return false }
        let state = entry.record.State
        return state.Status == "exited" && !state.Running && !state.Restarting
    }

    /// A name that a create or a rename wants, held by a container due for removal or being
    /// removed: that removal happens (or ends) first, so that the name is free, as with
    /// dockerd (`docker wait job; docker run --rm --name job ...` right after it).
    func freeNameOfRemovedContainer(_ name: String) async {
        guard let holder = names[name], isDueForAutoRemoval(holder) || removalsInProgress.contains(holder) else { return }
        try? await removeStopped(holder, removeVolumes: true)
    }

    /// After a user's stop or kill has ended an AutoRemove container: returns once it is
    /// removed (handleExit does it at once), up to 5 s. The client's next command (a run
    /// under the same name, say) then finds it gone, not for the most part but always.
    func awaitAutoRemoval(_ id: String) async {
        guard let entry = entries[id], entry.hostConfig.AutoRemove == true, !entry.manualRestart else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await self.awaitContainer(id, .removal) }
            group.addTask { try? await Task.sleep(for: .seconds(5)) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Removes the AutoRemove container after the grace, unless it was removed or started
    /// again meanwhile. A daemon that stops first leaves it to recovery, which removes it.
    func removeAfterGrace(_ id: String, finished: String) {
        Task {
            try? await Task.sleep(for: Self.autoRemoveGrace)
            await self.removeIfStillExited(id, finished: finished)
        }
    }

    private func removeIfStillExited(_ id: String, finished: String) async {
        guard let entry = entries[id], !entry.busy, !entry.record.State.Running, !entry.record.State.Restarting,
              entry.record.State.FinishedAt == finished else { return }
        try? await removeStopped(id, removeVolumes: true)  // as dockerd's --rm, its anonymous volumes too
    }
}
