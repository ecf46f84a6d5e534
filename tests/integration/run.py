"""Run every tests/integration/test_*.py (or those named) and end with
'integration: N passed, N failed'.  Exit status 1 on any failure."""
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

loader = unittest.TestLoader()
names = sys.argv[1:]
if names:
    suite = unittest.TestSuite(loader.loadTestsFromName(n) for n in names)
else:
    suite = loader.discover(here, pattern="test_*.py", top_level_dir=here)
result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
# An error in setUpClass counts as a failure without a test having run.
passed = max(0, result.testsRun - len(result.failures) - len(result.errors)
             - len(result.unexpectedSuccesses) - len(result.skipped))
label = os.environ.get("OCSS_TEST_LABEL", "integration")
print("%s: %d passed, %d failed" % (label, passed, failed))
sys.exit(1 if failed or result.testsRun == 0 else 0)
