"""The instructor's command line: ``course build``, ``grade``, ``report``, ``export``, ``demo`` and ``publish``."""
import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

from . import build, checkpoints, collect, export, grading, nbgrader_io, publish, records, report, settings
from ..course import LABS, ROOT, existing_labs
from .vocabulary import CourseError


def _labs(names) -> list[str]:
    return list(names) if names else existing_labs()


def cmd_build(args) -> None:
    build.build(_labs(args.labs), args.profile, force=args.force)


def cmd_grade(args) -> None:
    result = grading.grade_class(args.lab, Path(args.submissions), Path(args.workdir) / args.lab, jobs=args.jobs,
                                 pattern=args.pattern, cell_timeout=args.cell_timeout,
                                 notebook_timeout=args.notebook_timeout, memory_gb=args.memory,
                                 sandboxed=not args.no_sandbox, due_date=args.due_date, cluster=args.cluster)
    print(records.grade_table(result.grades))
    print()
    print(result.problems())
    print()
    print(result.summary())
    print(f"Informe de la clase: {report.write_report(args.lab, Path(args.workdir) / args.lab)}")


def cmd_report(args) -> None:
    print(f"Informe de la clase: {report.write_report(args.lab, Path(args.workdir) / args.lab)}")


def cmd_export(args) -> None:
    options = export.ExportOptions(
        out_of=args.out_of, canvas_assignment=args.canvas_assignment,
        moodle_language=export.MoodleLanguage[args.moodle_language.upper()], moodle_worksheet=args.moodle_worksheet,
        canvas_gradebook=args.canvas_gradebook, time_zone=args.time_zone, extensions=args.extensions,
        penalty=export.Penalty(args.late_penalty))
    result = export.export(args.lab, Path(args.workdir) / args.lab, options)
    print(result.summary())


def due_date(text: str) -> datetime:
    """``--due-date``: an ISO date and time, in local time unless it carries its offset."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"«{text}» no es una fecha: escríbela como 2026-11-20 23:59 "
                                         "(hora local) o 2026-11-20T23:59+01:00") from None


def cmd_demo(args) -> None:
    labs = _labs(args.labs)
    build.build(labs, "smoke")
    all_grades = []
    for lab in labs:
        folder = Path(args.workdir) / "demo" / lab
        folder.mkdir(parents=True, exist_ok=True)
        versions = build.demo_submissions(lab)
        for name, nb in versions.items():
            nbgrader_io.write_notebook(nb, folder / f"{name}.ipynb")
        start = time.perf_counter()
        all_grades += grading.grade(lab, folder, Path(args.workdir) / lab)
        print(f"{lab}: {len(versions)} entregas calificadas en {time.perf_counter() - start:.1f} s")
    print()
    print(records.grade_table(all_grades))


def cmd_publish(args) -> None:
    changes = publish.publish(Path(args.dest))
    print("\n".join(changes) if changes else "Nada que cambiar.")
    print(f"Distribución del alumnado en {args.dest}: súbela al repositorio público con el tag "
          f"{build.pinned_version()}.")


def cmd_checkpoints(args) -> None:
    start = time.perf_counter()
    files = checkpoints.make_checkpoints(args.lab, timeout=args.cell_timeout)
    print("\n".join(f"escrito {f.relative_to(ROOT) if f.is_relative_to(ROOT) else f}" for f in files))
    print(f"{args.lab}: {len(files)} archivos en {time.perf_counter() - start:.0f} s. `course publish` los incluye "
          "en la distribución del alumnado.")


def _build_command(sub) -> None:
    """``course build``: its options."""
    p = sub.add_parser("build", help="regenera release/ y solutions/ desde source/")
    p.add_argument("labs", nargs="*", choices=[[], *LABS], metavar="LAB", help="por defecto, todos")
    p.add_argument("--profile", choices=["smoke", "full"], default="smoke",
                   help="perfil con el que se ejecutan las soluciones (por defecto smoke)")
    p.add_argument("--force", action="store_true", help="vuelve a ejecutar las soluciones aunque no cambien")
    p.set_defaults(func=cmd_build)


def _grade_command(sub, workdir: str) -> None:
    """``course grade``: its options."""
    p = sub.add_parser("grade", help="califica una clase: repara, califica en paralelo, retroalimentación, CSV e informe")
    p.add_argument("lab", choices=LABS, metavar="LAB")
    p.add_argument("submissions", help="carpeta con los cuadernos entregados o zip descargado de Moodle, "
                                       "Canvas o Google Classroom")
    p.add_argument("--workdir", default=workdir, help=f"carpeta de trabajo (por defecto {workdir})")
    p.add_argument("--jobs", "-j", type=int, default=0,
                   help="estudiantes calificados a la vez (por defecto, el número de núcleos)")
    p.add_argument("--pattern", default="auto",
                   help="cómo sacar el estudiante del nombre de archivo: auto (por defecto), "
                        f"{', '.join(collect.PLATFORMS)} o una expresión regular con (?P<estudiante>...)")
    p.add_argument("--cell-timeout", type=int, default=nbgrader_io.CELL_TIMEOUT,
                   help=f"segundos máximos por celda (por defecto {nbgrader_io.CELL_TIMEOUT})")
    p.add_argument("--notebook-timeout", type=int, default=settings.NOTEBOOK_TIMEOUT,
                   help=f"segundos máximos por cuaderno completo (por defecto {settings.NOTEBOOK_TIMEOUT})")
    p.add_argument("--memory", type=float, default=settings.MEMORY_GB,
                   help=f"GiB de memoria virtual por estudiante (por defecto {settings.MEMORY_GB:g})")
    p.add_argument("--no-sandbox", action="store_true",
                   help="ejecuta el código de los estudiantes SIN aislarlo (solo si confías en todos: podrían "
                        "leer la clave, las entregas de otros o tus archivos); por defecto cada núcleo va aislado "
                        "con bubblewrap")
    p.add_argument("--due-date", type=due_date, default=None,
                   help="fecha límite de la tarea (2026-11-20 23:59, hora local): se guarda en el libro de notas "
                        "y course export aplica la penalización por retraso que diga nbgrader_config.py")
    p.add_argument("--cluster", metavar="DIRECCIÓN", default=None,
                   help="califica en los trabajadores de un clúster de Dask ya en marcha (tcp://HOST:8786) en vez "
                        "de en esta máquina; --jobs no se usa")
    p.set_defaults(func=cmd_grade)


def _report_command(sub, workdir: str) -> None:
    """``course report``: its options."""
    p = sub.add_parser("report", help="la clase de un vistazo: una página HTML con histogramas, cada prueba, cada "
                                      "estudiante y las respuestas que parecen copiadas")
    p.add_argument("lab", choices=LABS, metavar="LAB")
    p.add_argument("--workdir", default=workdir, help=f"carpeta de trabajo (por defecto {workdir})")
    p.set_defaults(func=cmd_report)


def _export_command(sub, workdir: str) -> None:
    """``course export``: its options."""
    p = sub.add_parser("export", help="notas finales y retroalimentación para subir a Moodle o Canvas")
    p.add_argument("lab", choices=LABS, metavar="LAB")
    p.add_argument("--workdir", default=workdir, help=f"carpeta de trabajo (por defecto {workdir})")
    p.add_argument("--out-of", type=float, default=None,
                   help="nota máxima de la tarea en la plataforma (p. ej. 10); obligatoria para los archivos de Moodle "
                        "y Canvas")
    p.add_argument("--canvas-assignment", default=None,
                   help="título de la columna de la tarea en Canvas, con su id: \"Lab 1 (12345)\" (sin id no se "
                        "escribe el archivo de Canvas: Canvas crearía una tarea nueva)")
    p.add_argument("--moodle-language", choices=["es", "en"], default="es",
                   help="sin --moodle-worksheet, idioma de tu Moodle: títulos de las columnas de la hoja de "
                        "calificaciones (por defecto es)")
    p.add_argument("--moodle-worksheet", type=Path, metavar="ARCHIVO", default=None,
                   help="la hoja de calificaciones que descargaste de Moodle (Ver todas las entregas → Acción → "
                        "Descargar hoja de calificaciones): se escribe de vuelta con notas y comentarios, en su idioma "
                        "y con su máximo; da las horas de entrega, las prórrogas y los miembros de cada grupo")
    p.add_argument("--canvas-gradebook", type=Path, metavar="ARCHIVO", default=None,
                   help="el libro de calificaciones exportado de Canvas (Calificaciones → Exportar): se escribe de "
                        "vuelta con la columna de la tarea (--canvas-assignment la elige si hay varias) y sus puntos")
    p.add_argument("--time-zone", default=None, metavar="ZONA",
                   help="zona horaria de tu perfil de Moodle, en la que están las fechas de su hoja "
                        "(p. ej. Europe/Madrid, America/Bogota; por defecto PLATFORM_TIME_ZONE de helpers/course.py)")
    p.add_argument("--extensions", type=Path, metavar="ARCHIVO", default=None,
                   help="CSV con columnas estudiante,fecha_limite: la fecha límite propia de cada estudiante "
                        "(id de notas_finales o de la plataforma)")
    p.add_argument("--late-penalty", "--penalizacion", choices=[p.value for p in export.Penalty], default="auto",
                   help="quién penaliza el retraso: plataforma (Moodle 5, Canvas con su política de retrasos), curso "
                        "(el plugin de nbgrader_config.py), ninguna; auto (por defecto): la plataforma para quien vino "
                        "de Moodle o Canvas y el curso para los demás, nunca los dos")
    p.set_defaults(func=cmd_export)


def _demo_command(sub, workdir: str) -> None:
    """``course demo``: its options."""
    p = sub.add_parser("demo", help="construye y califica una clase de ejemplo (perfecto, en blanco, a medias)")
    p.add_argument("labs", nargs="*", choices=[[], *LABS], metavar="LAB", help="por defecto, todos")
    p.add_argument("--workdir", default=workdir, help=f"carpeta de trabajo (por defecto {workdir})")
    p.set_defaults(func=cmd_demo)


def _publish_command(sub) -> None:
    """``course publish``: its options."""
    p = sub.add_parser("publish", help="escribe la distribución del alumnado (enunciados, biblioteca, README) "
                                       "sin nada de la clave")
    p.add_argument("dest", metavar="DEST", help="carpeta de destino: vacía, nueva o una publicación anterior")
    p.set_defaults(func=cmd_publish)


def _checkpoints_command(sub) -> None:
    """``course checkpoints``: its options."""
    p = sub.add_parser("checkpoints", help="entrena una vez los modelos de un laboratorio (en tu GPU, perfil full) y "
                                           "los deja en checkpoints/ para que el alumnado pueda cargarlos")
    p.add_argument("lab", choices=checkpoints.LABS_WITH_CHECKPOINTS, metavar="LAB")
    p.add_argument("--cell-timeout", type=int, default=None,
                   help="segundos máximos por celda (por defecto, sin límite: entrenar lleva tiempo)")
    p.set_defaults(func=cmd_checkpoints)


def main(argv=None) -> int:
    """Entry point of the ``course`` command."""
    parser = argparse.ArgumentParser(prog="course", description="Herramientas del profesorado del curso.")
    sub = parser.add_subparsers(dest="command", required=True)
    workdir = str(ROOT / "calificaciones")
    _build_command(sub)
    _grade_command(sub, workdir)
    _report_command(sub, workdir)
    _export_command(sub, workdir)
    _demo_command(sub, workdir)
    _publish_command(sub)
    _checkpoints_command(sub)

    args = parser.parse_args(argv)
    try:
        args.func(args)
    except CourseError as e:  # anything else is a bug: its traceback shows
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
