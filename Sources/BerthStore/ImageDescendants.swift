import FoundationEssentials

extension ImageStore {
    /// `docker ps --filter ancestor=x`: the IDs of image x and of every image built or
    /// committed on top of it, as dockerd matches containers by image ID, not by the name
    /// they were run with. Empty when x is not here (dockerd then matches nothing).
    public func imageAndDescendants(_ name: String) -> Set<String> {
        guard let root = try? resolve(name) else { return [] }
        return lock.withLock {
            var found: Set<String> = [root.id]
            var frontier = [root.id]
            while let parent = frontier.popLast() {
                for record in state.images.values where record.parent == parent && !found.contains(record.id) {
                    found.insert(record.id)
                    frontier.append(record.id)
                }
            }
            return found
        }
    }
}
