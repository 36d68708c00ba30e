/// Docker-style random container names: `adjective_surname`, the surname one of a notable
/// scientist or engineer. Deterministic for a given random number generator.
public struct NameGenerator {
    public static let adjectives = [
        "agile", "amazing", "bold", "brave", "bright", "busy", "calm", "candid", "careful", "cheerful",
        "clever", "cool", "curious", "daring", "dazzling", "determined", "eager", "earnest", "elated", "elegant",
        "epic", "fervent", "focused", "friendly", "gallant", "gentle", "glowing", "happy", "hopeful", "humble",
        "inspiring", "jolly", "keen", "kind", "lively", "loving", "lucid", "merry", "modest", "nifty",
        "patient", "peaceful", "quirky", "quiet", "relaxed", "serene", "sharp", "steady", "swift", "tender",
        "upbeat", "vibrant", "wise", "witty", "zealous",
    ]

    public static let surnames = [
        "agnesi", "al_khwarizmi", "archimedes", "babbage", "bardeen", "bartik", "bell", "bernoulli", "bohr", "boole",
        "borg", "bose", "brahmagupta", "brattain", "cannon", "cantor", "carson", "cerf", "chandrasekhar", "clarke",
        "copernicus", "cray", "curie", "darwin", "dijkstra", "dirac", "edison", "einstein", "euclid", "euler",
        "faraday", "fermat", "fermi", "feynman", "fibonacci", "franklin", "galileo", "gauss", "germain", "goldberg",
        "goodall", "hamilton", "hawking", "heisenberg", "hertz", "hilbert", "hodgkin", "hopper", "hubble", "huygens",
        "hypatia", "jackson", "johnson", "joule", "kalam", "kepler", "knuth", "kovalevskaya", "lamarr", "lamport",
        "laplace", "leavitt", "leibniz", "liskov", "lovelace", "maxwell", "mcclintock", "meitner", "mendel", "mendeleev",
        "minsky", "mirzakhani", "morse", "napier", "neumann", "newton", "nobel", "noether", "ohm", "pascal",
        "pasteur", "planck", "raman", "ramanujan", "ritchie", "rutherford", "sagan", "shannon", "somerville", "tesla",
        "thompson", "torvalds", "turing", "volta", "watt", "wiles", "wilson", "wozniak", "wright", "wu",
        "yalow", "yonath",
    ]

    public init() {}

    /// A name such as "curious_lovelace". With `retry` above 0 a digit is appended, as
    /// Docker does when the first pick is taken.
    public func generate<R: RandomNumberGenerator>(using generator: inout R, retry: Int = 0) -> String {
        while true {
            let name = Self.adjectives.randomElement(using: &generator)! + "_" + Self.surnames.randomElement(using: &generator)!
            // Steve Wozniak is not boring (Docker's own rule, kept).
            if name == "boring_wozniak" { continue }
            return retry > 0 ? name + String(Int.random(in: 0..<10, using: &generator)) : name
        }
    }

    public func generate(retry: Int = 0) -> String {
        var generator = SystemRandomNumberGenerator()
        return generate(using: &generator, retry: retry)
    }
}
