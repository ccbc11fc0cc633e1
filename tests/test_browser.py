"""The chat widget as a person meets it: JupyterLab 4 on loopback, `nbs/21_chat_widget.ipynb` opened in headless
Chromium (Debian's `chromium`, driven by Playwright with `executable_path`; no browser download), Run All, then a
video recommended, a wish typed and sent with Enter, and the answers read back from the page.

It runs a copy of the notebook (so nothing is saved into `nbs/`) with the smoke preset, and skips with the reason
where Chromium or Playwright is missing; `.ci/run` installs both."""
import os, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = next((p for p in (os.environ.get('CHROMIUM'), shutil.which('chromium'), shutil.which('chromium-browser'),
                             '/usr/bin/chromium') if p and Path(p).exists()), None)
playwright = pytest.importorskip('playwright.sync_api', reason='Playwright is not installed (pip install playwright)')
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason='no Chromium here (Debian: apt-get install -y chromium)')
TOKEN = 'musechat-test'

def _free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "A JupyterLab server on loopback serving a copy of the chat notebook; yields its URL."
    root = tmp_path_factory.mktemp('lab')
    shutil.copy(ROOT / 'nbs' / '21_chat_widget.ipynb', root / 'chat.ipynb')
    settings = root / '.settings' / '@jupyterlab' / 'notebook-extension'
    settings.mkdir(parents=True)       # every cell drawn, not only those in view (JupyterLab 4 windows long notebooks)
    (settings / 'tracker.jupyterlab-settings').write_text('{"windowingMode": "none"}')
    port = _free_port()
    env = {**os.environ, 'MUSECHAT_PRESET': 'smoke', 'MUSECHAT_HOME': os.environ.get('MUSECHAT_HOME', str(ROOT / 'cache')),
           'JUPYTER_CONFIG_DIR': str(root / '.jupyter'), 'JUPYTERLAB_SETTINGS_DIR': str(root / '.settings'), 'JUPYTER_RUNTIME_DIR': str(root / '.runtime')}
    log = open(root / 'lab.log', 'w')
    server = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', '--ip', '127.0.0.1', '--port', str(port),
                               f'--IdentityProvider.token={TOKEN}', '--ServerApp.root_dir', str(root), '--allow-root',
                               '--LabApp.news_url=', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'],
                              cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}'
    for _ in range(120):
        try: urllib.request.urlopen(f'{url}/api/status?token={TOKEN}', timeout=1); break
        except OSError: time.sleep(.5)
        if server.poll() is not None: break
    else: server.terminate(); pytest.fail(f'JupyterLab did not start in 60 s: {(root / "lab.log").read_text()[-2000:]}')
    if server.poll() is not None: pytest.fail(f'JupyterLab exited: {(root / "lab.log").read_text()[-2000:]}')
    yield url
    server.terminate(); server.wait(30); log.close()

def test_the_chat_widget_in_a_real_browser(lab):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=['--headless', '--no-sandbox', '--disable-gpu',
                                                                     '--disable-background-networking'])
        page = browser.new_page(viewport={'width': 1024, 'height': 900})
        page.goto(f'{lab}/lab/tree/chat.ipynb?token={TOKEN}')
        page.locator('.jp-Notebook').wait_for(timeout=60_000)
        page.locator('.jp-StatusBar-TextItem:has-text("| Idle")').first.wait_for(timeout=120_000)   # the kernel is up
        page.keyboard.press('Escape')
        page.locator('.lm-MenuBar-itemLabel:text-is("Run")').click()
        page.locator('li[data-command="runmenu:run-all"]').click()
        start = page.locator('button:has-text("Recommend music")').first       # the student's widget: the first one shown
        start.wait_for(timeout=240_000)
        page.locator('.jp-InputArea-prompt:has-text("[*]")').first.wait_for(state='detached', timeout=300_000)   # Run All done
        widget = page.locator('.widget-vbox').filter(has=start).first
        # fresh after Run All: the notebook's own tests clicked their own copy, not this one
        assert 'Turn 1' not in widget.inner_text() and 'Upload (0)' in widget.inner_text()
        assert start.evaluate('b => b.scrollWidth <= b.clientWidth + 1'), 'the button text is cut'
        t = time.time(); start.click()
        widget.locator('h4:has-text("Turn 1")').wait_for(timeout=60_000)
        first_answer = time.time() - t
        box = widget.locator('input[placeholder^="What would you like instead"]')
        box.fill('more acoustic, with a female voice'); box.press('Enter')             # Enter sends it
        widget.locator('h4:has-text("Turn 2")').wait_for(timeout=60_000)
        text = widget.inner_text()
        assert 'Heard: ' in text and 'female vocals' in text and 'acoustic instruments' in text
        assert text.count('You:') == 2 and box.input_value() == ''
        assert widget.locator('audio').count() == 1
        box.press('Enter')                                                             # nothing typed: a red sentence
        widget.locator('span:has-text("empty")').wait_for(timeout=30_000)
        print(f"turn 1 answered in {first_answer:.1f} s; the page read back:\n{text[text.find('Turn 2'):][:700]}")
        browser.close()
