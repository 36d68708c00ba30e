extension ContainerService {
    /// How long an exited AutoRemove container nobody waits to see removed stays. docker-py's
    /// `containers.run(..., auto_remove=True)` asks for the logs and the exit status only after
    /// the start has answered: with Berth's immediate removal that found no container 9 times
    /// in 10 (dockerd's removal is slow enough to let it, most of the time). `docker run --rm`
    /// waits for the removal itself, and gets it at once.
    static let autoRemoveGrace: Duration = .seconds(1)

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
