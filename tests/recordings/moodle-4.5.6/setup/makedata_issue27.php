<?php
// The data issue 27's functions need, on the rebuilt Moodle 4.5.6 (after setup.sh's makedata*.php):
// activities with completion tracking (manual, on a grade, on a pass grade, one hidden), assignment user
// flags (extensions, a marking workflow state, an allocated marker) and messaging refusals (a block, a
// recipient who takes messages from contacts only). Made with Moodle's own APIs; prints the new ids.
// Run once: REALMOODLE_DIR=... php -d max_input_vars=5000 makedata_issue27.php
define('CLI_SCRIPT', true);
require(getenv('REALMOODLE_DIR') . '/moodle/config.php');
require_once($CFG->dirroot . '/lib/phpunit/classes/util.php');
require_once($CFG->dirroot . '/mod/assign/locallib.php');
require_once($CFG->libdir . '/completionlib.php');

global $DB;
\core\session\manager::set_user(get_admin());
$gen = phpunit_util::get_data_generator();
$ag = $gen->get_plugin_generator('mod_assign');
$pg = $gen->get_plugin_generator('mod_page');
$user = fn($name) => $DB->get_record('user', ['username' => $name], '*', MUST_EXIST);
$t1 = $user('teacher1'); $t2 = $user('teacher2');
$s = []; foreach (range(1, 6) as $i) { $s[$i] = $user("student$i"); }
$c1 = $DB->get_record('course', ['shortname' => 'MATH101'], '*', MUST_EXIST);
$now = time();

$assign = function($instance) {
    [$course, $cm] = get_course_and_cm_from_instance($instance->id, 'assign');
    return new assign(context_module::instance($cm->id), $cm, $course);
};
$grade = function($instance, $grader, $student, $value) use ($assign) {
    $a = $assign($instance);
    \core\session\manager::set_user($grader);
    $data = new stdClass(); $data->grade = $value; $data->attemptnumber = -1;
    $a->save_grade($student->id, $data);
    \core\session\manager::set_user(get_admin());
};

// Activities of MATH101, in section 1 with Essay 1 and Draft Work.
$reading = $pg->create_instance(['course' => $c1->id, 'name' => 'Reading 1', 'section' => 1,
    'completion' => COMPLETION_TRACKING_MANUAL, 'content' => '<p>Chapter one</p>']);
$hidden = $pg->create_instance(['course' => $c1->id, 'name' => 'Answers', 'section' => 2, 'visible' => 0,
    'completion' => COMPLETION_TRACKING_MANUAL, 'content' => '<p>For teachers</p>']);
$lab = $ag->create_instance(['course' => $c1->id, 'name' => 'Lab Report', 'section' => 2, 'grade' => 100,
    'gradepass' => 50, 'duedate' => $now + 5 * 86400, 'submissiondrafts' => 0,
    'assignsubmission_onlinetext_enabled' => 1, 'completion' => COMPLETION_TRACKING_AUTOMATIC,
    'completionusegrade' => 1, 'completionpassgrade' => 1]);
$project = $ag->create_instance(['course' => $c1->id, 'name' => 'Group Project', 'section' => 2, 'grade' => 100,
    'duedate' => $now + 10 * 86400, 'markingworkflow' => 1, 'markingallocation' => 1, 'submissiondrafts' => 0,
    'assignsubmission_onlinetext_enabled' => 1, 'completion' => COMPLETION_TRACKING_AUTOMATIC,
    'completionsubmit' => 1]);

// Completion: student1 and student2 read Reading 1 (manual); Lab Report graded pass (student1) and fail (student2).
$completion = new completion_info($c1);
$cmreading = get_coursemodule_from_instance('page', $reading->id);
foreach ([1, 2] as $i) { $completion->update_state($cmreading, COMPLETION_COMPLETE, $s[$i]->id); }
$grade($lab, $t1, $s[1], 80);
$grade($lab, $t1, $s[2], 30);
// Essay 1 (completion on a grade): recompute for the graded learners, as a grade change would.
$essay = $DB->get_record('assign', ['course' => $c1->id, 'name' => 'Essay 1'], '*', MUST_EXIST);
$cmessay = get_coursemodule_from_instance('assign', $essay->id);
foreach ([1, 2, 3, 4, 5] as $i) { $completion->update_state($cmessay, COMPLETION_UNKNOWN, $s[$i]->id); }

// User flags: extensions (Essay 1 for student2, Group Project for student2), a workflow state and a marker.
$assign($essay)->save_user_extension($s[2]->id, $essay->duedate + 7 * 86400);
$p = $assign($project);
$p->save_user_extension($s[2]->id, $now + 20 * 86400);
$flags = $p->get_user_flags($s[3]->id, true);
$flags->workflowstate = ASSIGN_MARKING_WORKFLOW_STATE_INMARKING;
$flags->allocatedmarker = $t2->id;
$p->update_user_flags($flags);
$ag->create_submission(['userid' => $s[3]->id, 'cmid' => $project->cmid, 'onlinetext' => 'Our project']);

// Messaging: student3 blocks student1; student4 takes messages from contacts only.
\core_message\api::block_user($s[3]->id, $s[1]->id);
set_user_preference('message_blocknoncontacts', \core_message\api::MESSAGE_PRIVACY_ONLYCONTACTS, $s[4]->id);

echo json_encode(['pages' => ['Reading 1' => ['id' => $reading->id, 'cmid' => $reading->cmid],
                              'Answers' => ['id' => $hidden->id, 'cmid' => $hidden->cmid]],
                  'assign' => ['Lab Report' => ['id' => $lab->id, 'cmid' => $lab->cmid],
                               'Group Project' => ['id' => $project->id, 'cmid' => $project->cmid]],
                  'essay_extension' => $essay->duedate + 7 * 86400], JSON_PRETTY_PRINT), "\n";
