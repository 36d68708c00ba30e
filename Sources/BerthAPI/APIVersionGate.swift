import BerthEngine

extension APIRequest {
    /// Whether the client speaks an API version older than `major.minor`: some answers keep
    /// their old behaviour for old clients (docker-py 5 and docker-compose 1 speak 1.41).
    /// A request without a `/v1.NN` prefix speaks the current version.
    func speaksBefore(_ major: Int, _ minor: Int) -> Bool {
        guard let version = apiVersion else { return false }
        let parts = version.split(separator: ".").map { Int($0) ?? 0 }
        return parts.lexicographicallyPrecedes([major, minor])
    }
}
