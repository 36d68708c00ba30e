extension ImageStore {
    /// The ID a name, tag or ID prefix stands for now ("sha256:…"), nil when nothing here
    /// answers to it. A lock and a table look-up, cheap enough for every `docker ps` row.
    public func currentID(of name: String) -> String? {
        try? resolve(name).id
    }
}
