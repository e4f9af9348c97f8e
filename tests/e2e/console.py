"""End-to-end checks of the web console (crates/weft-server/console) in headless Chromium
against a running `weft serve`: logging in, running queries (table and graph views), an
error, a plan, the schema and storage panels; saves screenshots.

Usage: python console.py HTTP_PORT SCREENSHOT_DIR [USER PASSWORD] [--cluster N]   (run by the
e2e runner, which starts and stops the server; with USER the server is expected to run with
--auth; with --cluster, by raft.py against a member: the cluster view alone is checked).
Each check prints one line; any failed assertion exits non-zero. Bounded: every wait gives
up after 20 s. The browser is quit whatever happens.
"""
import os
import sys
import uuid

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import checks

# With --cluster N (last), only the login and the cluster view are checked: the server is
# a member of a Raft cluster of N members.
CLUSTER = int(sys.argv.pop()) if len(sys.argv) > 2 and sys.argv[-2] == "--cluster" else None
if CLUSTER is not None:
    sys.argv.pop()
PORT = int(sys.argv[1])
SHOTS = sys.argv[2]
USER, PASSWORD = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else (None, None)
URL = f"http://127.0.0.1:{PORT}/"
WAIT_S = 20
# The server may be shared with other e2e scripts (imports.py makes :Person and :KNOWS too):
# this run's people carry a token of their own, so the MATCH below sees exactly them.
TOKEN = uuid.uuid4().hex[:12]

check = checks.Checks()


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


driver = browser()


def wait_for(what, condition):
    return WebDriverWait(driver, WAIT_S).until(lambda d: condition(), message=f"waiting for {what}")


def element(element_id):
    return driver.find_element(By.ID, element_id)


def shown(element_id):
    found = driver.find_elements(By.ID, element_id)
    return bool(found) and found[0].is_displayed()


def script(source, *args):
    return driver.execute_script(source, *args)


def run(query):
    """Puts `query` in the editor, clicks Run, and returns the parsed API response."""
    script("window.weftConsole.lastResult = null; window.weftConsole.editor.setValue(arguments[0]);", query)
    element("run").click()
    wait_for(f"the answer to {query!r}",
             lambda: script("const c = window.weftConsole; return c.lastResult !== null && !c.running;"))
    assert not shown("spinner"), "the spinner still shows after the query finished"
    return script("return window.weftConsole.lastResult;")


def screenshot(name):
    path = os.path.join(SHOTS, name)
    assert driver.save_screenshot(path), path
    assert os.path.getsize(path) > 0, path


def console_is_open():
    return script("return !!(window.weftConsole && window.weftConsole.editor)") and shown("run")


def logs_in():
    driver.get(URL)
    if USER is None:
        wait_for("the console", console_is_open)
        assert not shown("login-user"), "the login form shows though the server wants no credentials"
        return
    wait_for("the login form", lambda: shown("login-user"))
    element("login-user").clear()
    element("login-user").send_keys(USER)
    element("login-password").send_keys(PASSWORD + "-wrong")
    element("login-submit").click()
    wait_for("the login error", lambda: shown("login-error") and element("login-error").text.strip())
    assert not console_is_open(), "a wrong password opened the console"
    element("login-password").clear()
    element("login-password").send_keys(PASSWORD)
    element("login-submit").click()
    wait_for("the console", lambda: console_is_open() and not shown("login-user"))


def table_and_graph_show_a_match():
    created = run(f"CREATE (:Person {{name:'Ada', console:'{TOKEN}'}})-[:KNOWS]->(:Person {{name:'Grace', console:'{TOKEN}'}})")
    assert not created["errors"], created["errors"]
    result = run(f"MATCH (a:Person {{console:'{TOKEN}'}})-[r:KNOWS]->(b) RETURN a, r, b")
    assert not result["errors"], result["errors"]
    assert shown("tab-table") and shown("tab-graph"), "a result with nodes offers both Table and Graph"
    element("tab-table").click()
    wait_for("the table view", lambda: shown("result-table"))
    rows = driver.find_elements(By.CSS_SELECTOR, "#result-table tbody tr")
    assert len(rows) == 1, len(rows)
    cells = [td.text for td in rows[0].find_elements(By.TAG_NAME, "td")]
    assert cells[0].startswith("(:Person {") and "Ada" in cells[0], cells
    assert cells[1].startswith("[:KNOWS"), cells
    assert "1 row" in element("summary").text, element("summary").text
    screenshot("console-table.png")
    element("tab-graph").click()
    wait_for("the graph view", lambda: shown("graph"))
    wait_for("2 nodes and 1 edge in the graph",
             lambda: script("const cy = window.weftConsole.cy; return [cy.nodes().length, cy.edges().length];") == [2, 1])
    captions = sorted(script("return window.weftConsole.cy.nodes().map(n => n.data('caption'));"))
    assert captions == ["Ada", "Grace"], captions
    screenshot("console-graph.png")


def double_clicking_a_node_adds_its_neighbours():
    created = run(f"MATCH (g:Person {{name:'Grace', console:'{TOKEN}'}}) "
                  f"CREATE (g)-[:KNOWS]->(:Person {{name:'Hopper', console:'{TOKEN}'}})")
    assert not created["errors"], created["errors"]
    result = run(f"MATCH (a:Person {{name:'Ada', console:'{TOKEN}'}})-[r:KNOWS]->(b) RETURN a, r, b")
    assert not result["errors"], result["errors"]
    element("tab-graph").click()
    edges = "const cy = window.weftConsole.cy; return [cy.nodes().length, cy.edges().length];"
    wait_for("Ada and Grace in the graph", lambda: script(edges) == [2, 1])
    # What cytoscape reports for a double click (tap twice) on Grace.
    script("window.weftConsole.cy.nodes().filter(n => n.data('caption') === 'Grace')[0].emit('dbltap');")
    wait_for("Grace's neighbour Hopper added to the graph", lambda: script(edges) == [3, 2])


def a_long_query_can_be_cancelled():
    long = (f"UNWIND range(1, 100000) AS i UNWIND range(1, 100000) AS j "
            f"CREATE (:Endless {{console:'{TOKEN}'}}) RETURN count(*)")
    script("window.weftConsole.lastResult = null; window.weftConsole.editor.setValue(arguments[0]);", long)
    element("run").click()
    wait_for("the spinner and the Cancel button", lambda: shown("spinner") and shown("cancel"))
    element("cancel").click()
    wait_for("the cancelled notice", lambda: shown("notice") and "cancelled" in element("notice").text.lower())
    wait_for("the console ready again", lambda: not shown("spinner") and shown("run"))
    # The server stopped the statement and rolled it back: nothing of it was written. The
    # server has one worker (run.sh), so this answer also shows the statement let it go.
    result = run(f"MATCH (e:Endless {{console:'{TOKEN}'}}) RETURN count(e) AS n")
    assert result["results"][0]["data"][0]["row"] == [0], result


def batches_run_in_transactions_of_their_own():
    result = run(f"UNWIND range(1, 3) AS i CALL (i) {{ CREATE (:Batched {{console:'{TOKEN}', i: i}}) }} "
                 f"IN TRANSACTIONS OF 1 ROWS")
    assert not result["errors"], result["errors"]
    result = run(f"MATCH (b:Batched {{console:'{TOKEN}'}}) RETURN count(b) AS n")
    assert result["results"][0]["data"][0]["row"] == [3], result


def a_failing_query_shows_the_error():
    result = run("RETURN 1 +")
    assert result["errors"], result
    wait_for("the error box", lambda: shown("error"))
    code = element("error").find_element(By.CLASS_NAME, "code").text
    message = element("error").find_element(By.CLASS_NAME, "message").text
    assert "SyntaxError" in code, code
    assert message.strip(), "the error box has no message"
    screenshot("console-error.png")


def explain_shows_the_plan():
    result = run("EXPLAIN MATCH (n) RETURN n")
    assert not result["errors"], result["errors"]
    assert not shown("error"), "the error box still shows after a query that succeeded"
    wait_for("the Plan tab", lambda: shown("tab-plan"))
    element("tab-plan").click()
    wait_for("the plan", lambda: shown("plan") and element("plan").text.strip())
    root = result["results"][0]["plan"]["root"]["operatorType"]
    assert root in element("plan").text, (root, element("plan").text)


def the_schema_panel_lists_person():
    element("schema-refresh").click()

    def click_person():
        # The panel re-renders while a refresh runs: wait for it to settle, retry a stale chip.
        if not element("schema-refresh").is_enabled():
            return False
        try:
            chips = [b for b in element("schema-labels").find_elements(By.TAG_NAME, "button") if b.text == "Person"]
            if chips:
                chips[0].click()
            return bool(chips)
        except StaleElementReferenceException:
            return False

    wait_for("Person among the labels", click_person)
    query = script("return window.weftConsole.editor.getValue();")
    assert query == "MATCH (n:Person) RETURN n LIMIT 25", query


def the_storage_panel_shows_storage_info():
    element("storage-refresh").click()
    # Refresh is disabled until the panel is rendered anew; read its rows in one go then.
    rows = wait_for("SHOW STORAGE INFO's rows", lambda: element("storage-refresh").is_enabled() and script(
        "return [...document.querySelectorAll('#storage-info tbody tr')].map(tr => [...tr.cells].map(td => td.textContent));"))
    assert all(len(r) == 2 for r in rows) and rows[0][0], rows


def no_javascript_errors():
    # Failed loads are expected (the wrong password's 401); anything else is a bug.
    severe = [e["message"] for e in driver.get_log("browser")
              if e["level"] == "SEVERE" and "Failed to load resource" not in e["message"]]
    assert not severe, severe


def the_cluster_view_lists_the_members():
    def members():
        if not shown("cluster"):
            return None
        rows = script("return [...document.querySelectorAll('#cluster-members tbody tr')]"
                      ".map(tr => [...tr.cells].map(td => td.textContent));")
        return rows if len(rows) == CLUSTER and sum("leader" in r for r in rows) == 1 else None
    rows = wait_for(f"{CLUSTER} members, one of them the leader, in the cluster view", members)
    assert element("cluster-mode").text == "raft", element("cluster-mode").text
    assert element("cluster-role").text in ("leader", "follower"), element("cluster-role").text
    assert rows
    screenshot("console-cluster.png")


try:
    os.makedirs(SHOTS, exist_ok=True)
    if CLUSTER is not None:
        check("log in to a Raft member's console", logs_in)
        check(f"the cluster view lists the {CLUSTER} members and the leader", the_cluster_view_lists_the_members)
        print(f"e2e console-cluster: {check.passed} passed, 0 failed")
        sys.exit(0)
    check("log in: " + ("the form refuses a wrong password and takes the right one" if USER else "no form without --auth"),
          logs_in)
    check("CREATE, then MATCH: the table has 1 row, the graph 2 nodes and 1 edge", table_and_graph_show_a_match)
    check("double-clicking a node adds its neighbours to the graph", double_clicking_a_node_adds_its_neighbours)
    check("a long query shows the spinner; Cancel stops it on the server and nothing is written",
          a_long_query_can_be_cancelled)
    check("CALL { } IN TRANSACTIONS runs from the editor", batches_run_in_transactions_of_their_own)
    check("a failing query shows its SyntaxError code and message", a_failing_query_shows_the_error)
    check("EXPLAIN shows the Plan tab with the operator tree", explain_shows_the_plan)
    check("the schema panel lists Person; clicking it puts a query in the editor", the_schema_panel_lists_person)
    check("the storage panel shows SHOW STORAGE INFO", the_storage_panel_shows_storage_info)
    check("no JavaScript errors in the browser's log", no_javascript_errors)
    print(f"e2e console: {check.passed} passed, 0 failed")
finally:
    driver.quit()
