// BerthStoreTests
