// cppunit main shared by every test executable: runs all registered suites, exit 1 on failure.
#include <cppunit/BriefTestProgressListener.h>
#include <cppunit/CompilerOutputter.h>
#include <cppunit/TestResult.h>
#include <cppunit/TestResultCollector.h>
#include <cppunit/TestRunner.h>
#include <cppunit/extensions/TestFactoryRegistry.h>
#include <curl/curl.h>

#include <iostream>

int main(int argc, char **argv) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CppUnit::TestResult controller;
    CppUnit::TestResultCollector result;
    controller.addListener(&result);
    CppUnit::BriefTestProgressListener progress;
    controller.addListener(&progress);
    CppUnit::TestRunner runner;
    runner.addTest(CppUnit::TestFactoryRegistry::getRegistry().makeTest());
    // Optional argument: run only the named test or suite (e.g. PricingMathTest::testSeedExample).
    runner.run(controller, argc > 1 ? argv[1] : "");
    CppUnit::CompilerOutputter(&result, std::cerr).write();
    curl_global_cleanup();
    return result.wasSuccessful() ? 0 : 1;
}
