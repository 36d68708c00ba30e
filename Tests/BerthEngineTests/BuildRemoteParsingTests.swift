import BerthOCI
import Testing
@testable import BerthEngine

/// How the builder reads what it fetches: git URLs and fragments as dockerd's urlutil and
/// gitutils do, HTTP dates as Go's http.ParseTime, content types as Go's sniffer, file names
/// of downloads as dockerd's ADD.
struct BuildRemoteParsingTests {
    @Test func gitURLsAreTheOnesDockerdTakes() {
        for url in ["https://host/repo.git", "http://host/repo.git#branch:dir", "git://host/repo", "git@host:repo.git",
                    "github.com/owner/repo", "https://host/x#a.git#b"] {
            #expect(GitRemote.isGitURL(url), "\(url)")
        }
        for url in ["https://host/repo", "https://host/repo.git#", "https://host/repo.gitx", "ssh://host/repo.git", "/local/repo.git"] {
            #expect(!GitRemote.isGitURL(url), "\(url)")
        }
    }

    @Test func fragmentsNameTheRefAndTheSubdirectory() throws {
        #expect(try GitRemote.parse("https://host/repo.git") == GitRemote(remote: "https://host/repo.git", ref: "master", subdir: ""))
        #expect(try GitRemote.parse("https://host/repo.git#v1") == GitRemote(remote: "https://host/repo.git", ref: "v1", subdir: ""))
        #expect(try GitRemote.parse("git://host/repo.git#:docker") == GitRemote(remote: "git://host/repo.git", ref: "master", subdir: "docker"))
        #expect(try GitRemote.parse("git@host:repo.git#pull/42/head:a/b")
            == GitRemote(remote: "git@host:repo.git", ref: "pull/42/head", subdir: "a/b"))
        #expect(try GitRemote.parse("github.com/owner/repo#dev") == GitRemote(remote: "https://github.com/owner/repo", ref: "dev", subdir: ""))
        #expect(throws: BerthError.internalError("invalid refspec: --upload-pack=x")) { try GitRemote.parse("git://host/r.git#--upload-pack=x") }
    }

    @Test func httpDatesAsGoReadsThem() {
        #expect(RemoteDownload.parseHTTPDate("Tue, 14 Nov 2023 22:13:20 GMT") == 1_700_000_000)
        #expect(RemoteDownload.parseHTTPDate("Tuesday, 14-Nov-23 22:13:20 GMT") == 1_700_000_000)
        #expect(RemoteDownload.parseHTTPDate("Tue Nov 14 22:13:20 2023") == 1_700_000_000)
        #expect(RemoteDownload.parseHTTPDate("yesterday") == nil)
        #expect(RemoteDownload.parseHTTPDate("Tue, 14 Nov 2023 25:13:20 GMT") == nil)
    }

    @Test func contentTypesOfARemoteContext() {
        #expect(ContentSniffer.detect(Array("FROM busybox\n".utf8)) == "text/plain")
        #expect(ContentSniffer.detect([0x1F, 0x8B, 0x08, 0x00]) == "application/x-gzip")
        #expect(ContentSniffer.detect(Array("  <html><body>".utf8)) == "text/html")
        #expect(ContentSniffer.detect([0x61, 0x00, 0x62]) == "application/octet-stream")
        #expect(ContentSniffer.acceptableContextType("text/plain; charset=utf-8") == "text/plain")
        #expect(ContentSniffer.acceptableContextType("application/gzip") == "application/gzip")
        #expect(ContentSniffer.acceptableContextType("application/x-xz") == "application/x-xz")
        #expect(ContentSniffer.acceptableContextType("text/html; charset=utf-8") == nil)
    }

    @Test func downloadsAreNamedFromTheURLOrTheHeader() {
        #expect(ImageBuilder.fileName(urlPath: ImageBuilder.urlPath("http://h:1/a/b%20c.txt?x=1#f")) == "b c.txt")
        #expect(ImageBuilder.fileName(urlPath: ImageBuilder.urlPath("http://h/dir/")) == nil)
        #expect(ImageBuilder.fileName(urlPath: ImageBuilder.urlPath("http://h")) == nil)
        #expect(ImageBuilder.fileName(contentDisposition: #"attachment; filename="../x.tar""#) == "x.tar")
        #expect(ImageBuilder.fileName(contentDisposition: "inline") == nil)
        #expect(RemoteDownload.hostPort("https://user@h/x") == "h:443")
        #expect(RemoteDownload.hostPort("http://[::1]:8080/x") == "[::1]:8080")
    }
}
