// BerthAPITests
